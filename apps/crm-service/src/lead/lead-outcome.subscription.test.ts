import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { conversationLeadOutcome, type DomainEvent, type EventData } from '@gtm/events';
import { createLogger, type SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { leadOutcomeSubscription, outcomeMovesLead } from './lead-outcome.subscription.js';
import { LeadStatus } from './lead.entity.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const logger = createLogger({ service: 'crm-test', level: 'silent' });

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

type Outcome = EventData<typeof conversationLeadOutcome>;

function outcomeFor(tenantId: string, leadId: string, outcome: Outcome['outcome'], leadStatus: Outcome['leadStatus']): DomainEvent<Outcome> {
  return {
    id: randomUUID(),
    name: conversationLeadOutcome.name,
    version: 1,
    tenantId,
    entity: { type: 'Lead', id: leadId },
    occurredAt: new Date(),
    requestId: null,
    publisher: 'conversation',
    data: { outcome, leadStatus, conversationId: randomUUID(), campaignId: null, state: 'ACTIVE', intent: null, email: null, reason: null },
  };
}

describe('a batch of conversation outcomes', () => {
  it('moves each lead of the batch forward only, skips the rest, and publishes one lead.updated per lead moved', async () => {
    const caller = createTestCaller();
    const create = async (status: LeadStatus) =>
      (await subgraph.call(caller, `mutation { createLead(input: { firstName: "Sam", lastName: "Lee", status: ${status} }) { id } }`)).data!['createLead'].id as string;
    const [fresh, engaged, customer, bounced] = [await create(LeadStatus.NEW), await create(LeadStatus.ENGAGED), await create(LeadStatus.CUSTOMER), await create(LeadStatus.CONTACTED)];
    const events = [
      outcomeFor(caller.tenantId, fresh, 'CONTACTED', 'CONTACTED'),
      outcomeFor(caller.tenantId, engaged, 'CONTACTED', 'CONTACTED'),
      outcomeFor(caller.tenantId, customer, 'DISQUALIFIED', 'DISQUALIFIED'),
      outcomeFor(caller.tenantId, bounced, 'BOUNCED', null),
      outcomeFor(caller.tenantId, randomUUID(), 'ENGAGED', 'ENGAGED'),
    ];
    await subgraph.app.database
      .forkForTenant(caller.tenantId)
      .transactional((em) => leadOutcomeSubscription.handleBatch(events, { em, tenantId: caller.tenantId, logger, attempt: 1, signal: new AbortController().signal }));
    const statusOf = async (id: string) => (await subgraph.call(caller, `query ($id: ID!) { lead(id: $id) { status } }`, { id })).data!['lead'].status;
    expect([await statusOf(fresh), await statusOf(engaged), await statusOf(customer), await statusOf(bounced)]).toEqual(['CONTACTED', 'ENGAGED', 'CUSTOMER', 'CONTACTED']);
    // One statement, one snapshot: each event is in the outbox, crm's delivery of it, or crm's processed record.
    const [row] = await subgraph.app.database.orm.em.fork().execute<Array<{ count: string }>>(
      `select (select count(*) from crm.event_outbox where tenant_id = ? and name = 'lead.updated')
            + (select count(*) from gtm_events.delivery where subscriber = 'crm' and tenant_id = ? and event_name = 'lead.updated')
            + (select count(*) from crm.processed_event where subscriber = 'crm' and tenant_id = ? and event_name = 'lead.updated') as count`,
      [caller.tenantId, caller.tenantId, caller.tenantId],
    );
    expect(Number(row!.count)).toBe(1);
  });
});

describe('a conversation’s outcome and the lead’s status', () => {
  it('moves a lead forward only, never touches a customer, and lets a no disqualify at any stage', () => {
    expect(outcomeMovesLead(LeadStatus.NEW, LeadStatus.CONTACTED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.CONTACTED, LeadStatus.ENGAGED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.ENGAGED, LeadStatus.QUALIFIED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.QUALIFIED, LeadStatus.ENGAGED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.ENGAGED, LeadStatus.CONTACTED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.CUSTOMER, LeadStatus.DISQUALIFIED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.CUSTOMER, LeadStatus.QUALIFIED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.DISQUALIFIED, LeadStatus.CONTACTED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.DISQUALIFIED, LeadStatus.ENGAGED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.ENGAGED, LeadStatus.ENGAGED)).toBe(false);
  });
});
