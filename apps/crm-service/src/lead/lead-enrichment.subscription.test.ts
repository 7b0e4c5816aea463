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

const handle = (event: DomainEvent<Data>) =>
  subgraph.app.database.forkForTenant(event.tenantId).transactional((em) => leadEnrichmentSubscription.handle(event, { em, logger, attempt: 1, signal: new AbortController().signal }));

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
