import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp, SubgraphContext } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { DataSourceService } from '../data-source/data-source.service.js';
import { createEnrichmentLoaders, type EnrichmentLoaders } from '../loaders.js';
import { EnrichmentPlanService } from './enrichment-plan.service.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const caller = createTestCaller();

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

const planQuery = `query ($targeting: CampaignTargetingInput!, $budget: Float) {
  enrichmentPlan(targeting: $targeting, budgetUsdPerRecord: $budget) {
    estimatedCostPerRecordUsd budgetUsdPerRecord uncoveredAttributes workflow
    recommendations { name slug category attributesCovered costPerRecordUsd expectedCostPerRecordUsd shareOfRecords quality rationale dataSource { slug gdprFriendly attributes { attribute } } }
    attributes { attribute label importance reason expectedCoverage sources }
  }
}`;

const fintechFinance = {
  industries: ['Fintech'],
  employeeRange: '51-500',
  geographies: ['United States'],
  jobTitles: ['CFO', 'VP Finance'],
  seniority: ['C-level', 'VP'],
  buyingSignals: [{ type: 'HIRING', priority: 'HIGH' }],
};

interface Plan {
  estimatedCostPerRecordUsd: number;
  budgetUsdPerRecord: number;
  uncoveredAttributes: string[];
  workflow: string[];
  recommendations: { slug: string; attributesCovered: string[]; expectedCostPerRecordUsd: number; rationale: string; dataSource: { slug: string; attributes: { attribute: string }[] } }[];
  attributes: { attribute: string; expectedCoverage: number; sources: string[] }[];
}

async function plan(targeting: unknown, budget?: number | null) {
  return subgraph.call(caller, planQuery, { targeting, budget });
}

describe('Query.enrichmentPlan', () => {
  it('plans the enrichment of a targeting through the subgraph, reading the catalog once', async () => {
    subgraph.queries.length = 0;
    const result = await plan(fintechFinance, 0.5);
    expect(result.errors).toBeUndefined();
    const enrichmentPlan: Plan = result.data!['enrichmentPlan'];
    expect(subgraph.queries.filter((sql) => /\bselect\b.*"data_source"/i.test(sql))).toHaveLength(1);

    expect(enrichmentPlan.budgetUsdPerRecord).toBe(0.5);
    expect(enrichmentPlan.estimatedCostPerRecordUsd).toBeGreaterThan(0);
    expect(enrichmentPlan.estimatedCostPerRecordUsd).toBeLessThanOrEqual(0.5);
    expect(enrichmentPlan.uncoveredAttributes).toEqual([]);
    expect(enrichmentPlan.workflow.every((step, index) => step.startsWith(`${index + 1}. `))).toBe(true);
    expect(enrichmentPlan.attributes.map((attribute) => attribute.attribute)).toEqual([
      'company.domain',
      'company.industry',
      'company.employeeCount',
      'company.location',
      'person.title',
      'person.seniority',
      'person.linkedinUrl',
      'person.email',
      'person.emailVerified',
      'person.phone',
      'signals.hiring',
    ]);
    for (const recommendation of enrichmentPlan.recommendations) {
      expect(recommendation.dataSource.slug).toBe(recommendation.slug);
      const offered = recommendation.dataSource.attributes.map((estimate) => estimate.attribute);
      for (const attribute of recommendation.attributesCovered) expect(offered).toContain(attribute);
    }
    // A CFO is senior: the plan looks for a direct phone.
    expect(enrichmentPlan.recommendations.some((recommendation) => recommendation.attributesCovered.includes('person.phone'))).toBe(true);
    expect(enrichmentPlan.workflow.some((step) => /^\d+\. Find the direct phone with/.test(step))).toBe(true);
  });

  it('uses the default budget of $0.25 per record when none is given', async () => {
    const result = await plan({ jobTitles: ['Office Manager'] });
    expect(result.data!['enrichmentPlan']).toMatchObject({ budgetUsdPerRecord: 0.25 });
    expect(result.data!['enrichmentPlan'].estimatedCostPerRecordUsd).toBeLessThanOrEqual(0.25);
  });

  it('refuses a negative or absurd budget and absurd sizes with BAD_USER_INPUT naming the field', async () => {
    const attempts: [unknown, number | null, string][] = [
      [fintechFinance, -0.1, 'budgetUsdPerRecord'],
      [fintechFinance, 1_000, 'budgetUsdPerRecord'],
      [{ employeeRange: '-20 to 50' }, null, 'targeting.employeeRange'],
      [{ employeeRange: '5-100,000,000' }, null, 'targeting.employeeRange'],
      [{ revenueRange: '$900M-$2M' }, null, 'targeting.revenueRange'],
      [{ buyingSignals: [{ type: '' }] }, null, 'targeting.buyingSignals.0.type'],
    ];
    for (const [targeting, budget, field] of attempts) {
      const result = await plan(targeting, budget);
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
      expect(result.errors?.[0]?.message.startsWith(field)).toBe(true);
      expect(result.data).toBeNull();
    }
  });
});

/** What a request of `caller` gets, for calling the service directly. */
function contextFor(): SubgraphContext<EnrichmentLoaders> {
  const em = subgraph.app.database.forkForTenant(caller.tenantId);
  return { em, caller, loaders: createEnrichmentLoaders(em, caller), logger: subgraph.app.logger };
}

describe('planForCampaign', () => {
  const service = new EnrichmentPlanService(new DataSourceService());

  it('plans from a Campaign representation exactly as the query does from the same targeting', async () => {
    const representation = {
      id: 'campaign-1',
      targetCompany: {
        firmographics: { industries: ['Fintech'], employeeRange: '51-500', revenueRange: null, geographies: ['United States'], businessModel: null, fundingStage: null, keywords: [] },
        buyingSignals: [{ type: 'HIRING', priority: 'HIGH' }],
      },
      targetPersona: { jobTitles: ['CFO', 'VP Finance'], departments: [], seniority: ['C-level', 'VP'] },
    };
    const fromCampaign = await service.planForCampaign(contextFor(), representation, 0.5);
    const fromQuery: Plan = (await plan(fintechFinance, 0.5)).data!['enrichmentPlan'];
    expect(fromCampaign).not.toBeNull();
    expect(fromCampaign!.workflow).toEqual(fromQuery.workflow);
    expect(fromCampaign!.estimatedCostPerRecordUsd).toBe(fromQuery.estimatedCostPerRecordUsd);
    expect(fromCampaign!.recommendations.map((recommendation) => recommendation.slug)).toEqual(fromQuery.recommendations.map((recommendation) => recommendation.slug));
  });

  it('is null for a campaign without targeting yet, and names the campaign’s field on bad data', async () => {
    expect(await service.planForCampaign(contextFor(), { targetCompany: null, targetPersona: null }, undefined)).toBeNull();
    await expect(service.planForCampaign(contextFor(), { targetCompany: { firmographics: { employeeRange: '900-10' } } }, undefined)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'targetCompany.firmographics.employeeRange' },
    });
    await expect(service.planForCampaign(contextFor(), { targetPersona: { jobTitles: ['CFO'] } }, -1)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'budgetUsdPerRecord' },
    });
  });
});
