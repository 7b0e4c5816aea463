import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

// Campaign.enrichmentPlan as the gateway resolves it: it enters this subgraph with the campaign's
// key and the targeting fields `@requires` lists, which campaign-service resolved (the stack test
// e2e/src/campaign-intelligence.test.ts runs the whole chain in one gateway query).

let subgraph: SubgraphUnderTest<SubgraphApp>;
const caller = createTestCaller();

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

const planOfCampaigns = `query ($representations: [_Any!]!, $budget: Float) {
  _entities(representations: $representations) {
    ... on Campaign { id enrichmentPlan(budgetUsdPerRecord: $budget) { estimatedCostPerRecordUsd workflow uncoveredAttributes recommendations { slug } } }
  }
}`;

const targetCompany = {
  firmographics: { industries: ['Fintech'], employeeRange: '51-500', revenueRange: null, geographies: ['United States'], businessModel: 'B2B SaaS', fundingStage: null, keywords: ['payments'] },
  buyingSignals: [{ type: 'HIRING', priority: 'HIGH' }],
};
const targetPersona = { jobTitles: ['CFO', 'VP Finance'], departments: ['Finance'], seniority: ['C_LEVEL', 'VP'] };

describe('Campaign.enrichmentPlan', () => {
  it('plans from the targeting the gateway hands over, within the budget, and is null without targeting', async () => {
    const result = await subgraph.call(caller, planOfCampaigns, {
      budget: 0.1,
      representations: [
        { __typename: 'Campaign', id: 'c1', targetCompany, targetPersona },
        { __typename: 'Campaign', id: 'c2', targetCompany: null, targetPersona: null },
      ],
    });
    expect(result.errors).toBeUndefined();
    const [planned, empty] = result.data!['_entities'];
    expect(planned.id).toBe('c1');
    expect(planned.enrichmentPlan.recommendations.length).toBeGreaterThan(0);
    expect(planned.enrichmentPlan.estimatedCostPerRecordUsd).toBeLessThanOrEqual(0.1);
    expect(planned.enrichmentPlan.workflow.join(' ')).toContain('CFO');
    expect(empty).toEqual({ id: 'c2', enrichmentPlan: null });
  });

  it('names the campaign\'s field when its targeting cannot be planned for', async () => {
    const result = await subgraph.call(caller, planOfCampaigns, {
      representations: [{ __typename: 'Campaign', id: 'c3', targetCompany: { ...targetCompany, firmographics: { ...targetCompany.firmographics, employeeRange: '500-50' } }, targetPersona }],
    });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'targetCompany.firmographics.employeeRange' });
    expect(result.errors?.[0]?.message).toContain('Campaign targetCompany.firmographics.employeeRange');
  });
});
