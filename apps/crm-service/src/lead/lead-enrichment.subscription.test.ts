// What enrichment found about a lead, handled as crm-service's consumer handles a delivered
// enrichment.record_completed: the lead's empty fields filled, nothing it says overwritten, the
// same event twice changing nothing more, and another tenant's lead out of reach.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrichmentRecordCompleted, type DomainEvent, type EventData } from '@gtm/events';
import { createLogger, type SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { leadEnrichmentSubscription } from './lead-enrichment.subscription.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const logger = createLogger({ service: 'crm-test', level: 'silent' });

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

type Data = EventData<typeof enrichmentRecordCompleted>;

function eventFor(tenantId: string, leadId: string, data: Partial<Data> = {}): DomainEvent<Data> {
  return {
    id: randomUUID(),
    name: enrichmentRecordCompleted.name,
    version: 1,
    tenantId,
    entity: { type: 'Lead', id: leadId },
    occurredAt: new Date(),
    requestId: null,
    publisher: 'enrichment',
    data: {
      jobId: randomUUID(),
      recordId: randomUUID(),
      status: 'ENRICHED',
      companyName: 'Sunshine Motors',
      website: 'https://sunshine-motors.example',
      domain: 'sunshine-motors.example',
      contact: { name: 'Rosa Delgado', title: 'Owner', email: 'rosa@sunshine-motors.example', phone: '(352) 555-0101', linkedinUrl: null, source: 'https://sunshine-motors.example/team' },
      qualification: { score: 81, tier: 'A', reasoning: 'Fits.' },
      ...data,
    },
  };
}

/** Handles events of one tenant as the consumer hands a batch to the subscription: one call, in one transaction. */
const handleBatch = (events: Array<DomainEvent<Data>>) =>
  subgraph.app.database
    .forkForTenant(events[0]!.tenantId)
    .transactional((em) => leadEnrichmentSubscription.handleBatch(events, { em, tenantId: events[0]!.tenantId, logger, attempt: 1, signal: new AbortController().signal }));
const handle = (event: DomainEvent<Data>) => handleBatch([event]);

/**
 * lead.updated events this tenant has published. One statement, one snapshot: each event is in
 * exactly one place of its way (the outbox, crm's own delivery of it, crm's processed record).
 */
async function leadUpdatedCount(tenantId: string): Promise<number> {
  const [row] = await subgraph.app.database.orm.em.fork().execute<Array<{ count: string }>>(
    `select (select count(*) from crm.event_outbox where tenant_id = ? and name = 'lead.updated')
          + (select count(*) from gtm_events.delivery where subscriber = 'crm' and tenant_id = ? and event_name = 'lead.updated')
          + (select count(*) from crm.processed_event where subscriber = 'crm' and tenant_id = ? and event_name = 'lead.updated') as count`,
    [tenantId, tenantId, tenantId],
  );
  return Number(row!.count);
}

const leadFields = 'id title phone email company { name domain websiteUrl }';

describe('a lead filled from its enrichment', () => {
  it('fills the lead’s empty company, title and phone when the contact is the lead, once, and overwrites nothing', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, `mutation { createLead(input: { firstName: "Rosa", lastName: "Delgado" }) { id } }`);
    const leadId = created.data!['createLead'].id;
    const event = eventFor(caller.tenantId, leadId);
    await handle(event);
    const read = async () => (await subgraph.call(caller, `query ($id: ID!) { lead(id: $id) { ${leadFields} } }`, { id: leadId })).data!['lead'];
    const filled = await read();
    expect(filled).toEqual({ id: leadId, title: 'Owner', phone: '(352) 555-0101', email: null, company: { name: 'Sunshine Motors', domain: 'sunshine-motors.example', websiteUrl: 'https://sunshine-motors.example' } });

    // Delivered again, or a later job finding something else: what the lead says stays.
    await handle(event);
    await handle(eventFor(caller.tenantId, leadId, { domain: 'other.example', website: 'https://other.example', contact: { name: 'Rosa Delgado', title: 'CEO', email: null, phone: '1', linkedinUrl: null, source: 'x' } }));
    expect(await read()).toEqual(filled);
  });

  it('leaves the title of a lead who is not the contact found, and joins an existing company by its domain', async () => {
    const caller = createTestCaller();
    const company = await subgraph.call(caller, `mutation { createCompany(input: { name: "Sunshine Motors LLC", websiteUrl: "https://sunshine-motors.example" }) { id } }`);
    const created = await subgraph.call(caller, `mutation { createLead(input: { firstName: "Pat", lastName: "Buyer", email: "pat@elsewhere.example" }) { id } }`);
    const leadId = created.data!['createLead'].id;
    await handle(eventFor(caller.tenantId, leadId));
    const read = (await subgraph.call(caller, `query ($id: ID!) { lead(id: $id) { title phone company { id } } }`, { id: leadId })).data!['lead'];
    expect(read).toEqual({ title: null, phone: null, company: { id: company.data!['createCompany'].id } });
  });

  it('fills a batch of leads in one go: leads of one new domain share one company, and each change is published once', async () => {
    const caller = createTestCaller();
    const create = async (firstName: string, lastName: string, extra = '') =>
      (await subgraph.call(caller, `mutation { createLead(input: { firstName: "${firstName}", lastName: "${lastName}"${extra} }) { id } }`)).data!['createLead'].id as string;
    const rosa = await create('Rosa', 'Delgado');
    const pat = await create('Pat', 'Buyer', ', email: "pat@elsewhere.example"');
    const lee = await create('Lee', 'Park', ', title: "Buyer"');
    const existing = (await subgraph.call(caller, `mutation { createCompany(input: { name: "Harbor Cars", websiteUrl: "https://harbor.example" }) { id } }`)).data!['createCompany'].id;
    const outboxBefore = await leadUpdatedCount(caller.tenantId);
    await handleBatch([
      eventFor(caller.tenantId, rosa),
      eventFor(caller.tenantId, pat),
      eventFor(caller.tenantId, lee, { domain: 'harbor.example', website: 'https://harbor.example', companyName: 'Harbor', contact: { name: 'Lee Park', title: 'CEO', email: null, phone: '555', linkedinUrl: null, source: 'x' } }),
      // A lead deleted meanwhile (or never seen here) is skipped.
      eventFor(caller.tenantId, randomUUID()),
    ]);
    const read = async (id: string) => (await subgraph.call(caller, `query ($id: ID!) { lead(id: $id) { title phone company { id domain } } }`, { id })).data!['lead'];
    const [readRosa, readPat, readLee] = [await read(rosa), await read(pat), await read(lee)];
    expect(readRosa).toMatchObject({ title: 'Owner', phone: '(352) 555-0101', company: { domain: 'sunshine-motors.example' } });
    // The same new domain in one batch: one company for both leads.
    expect(readPat).toEqual({ title: null, phone: null, company: readRosa.company });
    // Lee's title stays; the phone was empty; the company of the domain existed already.
    expect(readLee).toEqual({ title: 'Buyer', phone: '555', company: { id: existing, domain: 'harbor.example' } });
    expect(await leadUpdatedCount(caller.tenantId)).toBe(outboxBefore + 3);
  });

  it('fills the title and phone of a lead who is one of the other ranked contacts, not the first', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, `mutation { createLead(input: { firstName: "Ken", lastName: "Obi" }) { id } }`);
    const leadId = created.data!['createLead'].id;
    const owner = { name: 'Rosa Delgado', title: 'Owner', email: 'rosa@sunshine-motors.example', phone: '(352) 555-0101', linkedinUrl: null, source: 'https://sunshine-motors.example/team' };
    const manager = { name: 'Ken  Obi', title: 'General Manager', email: null, phone: '(352) 555-0102', linkedinUrl: null, source: 'https://sunshine-motors.example/team' };
    await handle(eventFor(caller.tenantId, leadId, { contact: owner, contacts: [owner, manager] }));
    const read = (await subgraph.call(caller, `query ($id: ID!) { lead(id: $id) { title phone } }`, { id: leadId })).data!['lead'];
    expect(read).toEqual({ title: 'General Manager', phone: '(352) 555-0102' });
  });

  it('cannot reach another tenant’s lead', async () => {
    const owner = createTestCaller();
    const created = await subgraph.call(owner, `mutation { createLead(input: { firstName: "Rosa", lastName: "Delgado" }) { id } }`);
    const leadId = created.data!['createLead'].id;
    await handle(eventFor(createTestCaller().tenantId, leadId));
    const read = (await subgraph.call(owner, `query ($id: ID!) { lead(id: $id) { title company { id } } }`, { id: leadId })).data!['lead'];
    expect(read).toEqual({ title: null, company: null });
  });
});
