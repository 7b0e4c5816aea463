// The lead events crm-service publishes, as a subscriber receives them: a probe subscription is
// declared in the shared event schema and nothing consumes it, so every delivery the relay made
// stays there to be read, in the order a consumer would take it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const probe = 'lead_events_probe';

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
  await subgraph.app.database.orm.em
    .fork()
    .execute(`insert into gtm_events.subscription (subscriber, event_name, event_version) values (?, 'lead.created', 1), (?, 'lead.updated', 1), (?, 'lead.deleted', 1)`, [
      probe,
      probe,
      probe,
    ]);
});

afterAll(() => subgraph?.close());

interface Delivered {
  event_name: string;
  tenant_id: string;
  entity_type: string;
  request_id: string | null;
  publisher: string;
  data: { lead: Record<string, unknown>; changed?: string[] };
}

const createLead = `mutation ($input: CreateLeadInput!) { createLead(input: $input) { id } }`;
const updateLead = `mutation ($id: ID!, $input: UpdateLeadInput!) { updateLead(id: $id, input: $input) { id } }`;
const deleteLead = `mutation ($id: ID!) { deleteLead(id: $id) }`;

/** The probe's deliveries about one lead, in delivery order. */
async function deliveredFor(leadId: string): Promise<Delivered[]> {
  const rows = await subgraph.app.database.orm.em
    .fork()
    .execute<Delivered[]>(
      `select event_name, tenant_id, entity_type, request_id, publisher, data from gtm_events.delivery where subscriber = ? and entity_id = ? order by delivery.id`,
      [probe, leadId],
    );
  return rows.map((row) => ({ ...row, data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data }));
}

/** Waits until the relay has moved what was committed (it is woken by the commit). */
async function relayed(leadId: string, count: number): Promise<Delivered[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await deliveredFor(leadId);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('lead events', () => {
  it('publishes lead.created, lead.updated with what changed, and lead.deleted, in order, with tenant and request id', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, createLead, { input: { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com' } });
    expect(created.errors).toBeUndefined();
    const leadId: string = created.data!['createLead'].id;
    const updated = await subgraph.call(caller, updateLead, { id: leadId, input: { status: 'QUALIFIED', title: 'Rear Admiral', lastName: null } });
    expect(updated.errors).toBeUndefined();
    const deleted = await subgraph.call(caller, deleteLead, { id: leadId });
    expect(deleted.data).toEqual({ deleteLead: leadId });

    const events = await relayed(leadId, 3);
    expect(events.map((event) => event.event_name)).toEqual(['lead.created', 'lead.updated', 'lead.deleted']);
    for (const event of events) {
      expect(event).toMatchObject({ tenant_id: caller.tenantId, entity_type: 'Lead', request_id: caller.requestId, publisher: 'crm' });
    }
    expect(events[0]!.data.lead).toMatchObject({ id: leadId, firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com', status: 'NEW', source: 'manual', companyId: null });
    expect(events[1]!.data).toMatchObject({ lead: { id: leadId, lastName: null, title: 'Rear Admiral', status: 'QUALIFIED' }, changed: ['lastName', 'title', 'status'] });
    expect(events[2]!.data.lead).toMatchObject({ id: leadId, title: 'Rear Admiral', status: 'QUALIFIED' });
    expect(await subgraph.call(caller, `query ($id: ID!) { lead(id: $id) { id } }`, { id: leadId })).toMatchObject({ data: { lead: null } });
  });

  it('publishes nothing for a change that is refused, changes nothing, or is not the caller’s', async () => {
    const owner = createTestCaller();
    const stranger = createTestCaller();
    const created = await subgraph.call(owner, createLead, { input: { firstName: 'Ada', email: 'ada@example.com' } });
    const leadId: string = created.data!['createLead'].id;

    const duplicate = await subgraph.call(owner, createLead, { input: { firstName: 'Other Ada', email: 'ADA@example.com' } });
    expect(duplicate.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const unchanged = await subgraph.call(owner, updateLead, { id: leadId, input: { firstName: 'Ada' } });
    expect(unchanged.errors).toBeUndefined();
    const foreignUpdate = await subgraph.call(stranger, updateLead, { id: leadId, input: { firstName: 'Mallory' } });
    expect(foreignUpdate.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const foreignDelete = await subgraph.call(stranger, deleteLead, { id: leadId });
    expect(foreignDelete.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const missingDelete = await subgraph.call(owner, deleteLead, { id: randomUUID() });
    expect(missingDelete.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    // A later change of the lead: once it is relayed, whatever came before it has been too.
    await subgraph.call(owner, updateLead, { id: leadId, input: { phone: '+1 555 0100' } });

    const events = await relayed(leadId, 2);
    expect(events.map((event) => [event.event_name, event.data.changed ?? null])).toEqual([
      ['lead.created', null],
      ['lead.updated', ['phone']],
    ]);
    const [strays] = await subgraph.app.database.orm.em
      .fork()
      .execute<Array<{ count: string }>>(`select count(*) from gtm_events.delivery where subscriber = ? and (tenant_id = ? or data #>> '{lead,firstName}' = 'Other Ada')`, [
        probe,
        stranger.tenantId,
      ]);
    expect(Number(strays!.count)).toBe(0);
  });
});
