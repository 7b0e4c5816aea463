import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, postGraphQL, startSubgraphUnderTest, waitFor } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const tenantA = createTestCaller();
const tenantB = createTestCaller();

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

const createLead = `mutation ($input: CreateLeadInput!) { createLead(input: $input) { id firstName lastName email status source company { id name } } }`;
const createCompany = `mutation ($input: CreateCompanyInput!) { createCompany(input: $input) { id name domain websiteUrl } }`;

describe('leads', () => {
  it('creates a lead at a company, reads it back and updates it', async () => {
    const company = await subgraph.call(tenantA, createCompany, { input: { name: 'Blossomer', websiteUrl: 'https://Blossomer.io/' } });
    expect(company.errors).toBeUndefined();
    expect(company.data!['createCompany']).toMatchObject({ name: 'Blossomer', domain: 'blossomer.io', websiteUrl: 'https://blossomer.io' });
    const companyId = company.data!['createCompany'].id;

    const created = await subgraph.call(tenantA, createLead, { input: { firstName: 'Ada', lastName: 'Lovelace', email: 'ADA@Blossomer.io', companyId } });
    expect(created.errors).toBeUndefined();
    expect(created.data!['createLead']).toMatchObject({ firstName: 'Ada', email: 'ada@blossomer.io', status: 'NEW', source: 'manual', company: { id: companyId, name: 'Blossomer' } });
    const leadId = created.data!['createLead'].id;

    const updated = await subgraph.call(tenantA, `mutation ($id: ID!) { updateLead(id: $id, input: { status: QUALIFIED, title: "CTO", lastName: null }) { status title lastName firstName } }`, { id: leadId });
    expect(updated.data!['updateLead']).toEqual({ status: 'QUALIFIED', title: 'CTO', lastName: null, firstName: 'Ada' });

    const read = await subgraph.call(tenantA, `query ($id: ID!) { lead(id: $id) { id status title } }`, { id: leadId });
    expect(read.data!['lead']).toEqual({ id: leadId, status: 'QUALIFIED', title: 'CTO' });
  });

  it('lists leads as a Relay connection with filters, search and stable pages', async () => {
    const caller = createTestCaller();
    for (let index = 0; index < 7; index += 1) {
      const result = await subgraph.call(caller, createLead, { input: { firstName: `Person${index}`, email: `person${index}@example.com`, status: index % 2 === 0 ? 'NEW' : 'CONTACTED', source: index < 2 ? 'csv-import' : 'manual' } });
      expect(result.errors).toBeUndefined();
    }
    const page = `query ($after: String, $filter: LeadFilter) { leads(first: 3, after: $after, filter: $filter) { edges { cursor node { firstName } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: { data?: Record<string, any> | null } = await subgraph.call(caller, page, { after });
      const connection: { edges: { node: { firstName: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = result.data!['leads'];
      seen.push(...connection.edges.map((edge) => edge.node.firstName));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(['Person6', 'Person5', 'Person4', 'Person3', 'Person2', 'Person1', 'Person0']);

    const contacted = await subgraph.call(caller, page, { filter: { status: ['CONTACTED'] } });
    expect(contacted.data!['leads'].edges.map((edge: any) => edge.node.firstName)).toEqual(['Person5', 'Person3', 'Person1']);
    const imported = await subgraph.call(caller, page, { filter: { source: 'csv-import', search: 'PERSON1' } });
    expect(imported.data!['leads'].edges.map((edge: any) => edge.node.firstName)).toEqual(['Person1']);
    const literal = await subgraph.call(caller, page, { filter: { search: '%' } });
    expect(literal.data!['leads'].edges).toEqual([]);
  });

  it('finds leads by their company name', async () => {
    const caller = createTestCaller();
    const company = await subgraph.call(caller, createCompany, { input: { name: 'Panfactum', websiteUrl: 'panfactum.com' } });
    await subgraph.call(caller, createLead, { input: { firstName: 'Jack', companyId: company.data!['createCompany'].id } });
    await subgraph.call(caller, createLead, { input: { firstName: 'Jill' } });
    const result = await subgraph.call(caller, `{ leads(filter: { search: "panfact" }) { edges { node { firstName } } } }`);
    expect(result.data!['leads'].edges).toEqual([{ node: { firstName: 'Jack' } }]);
  });

  it('rejects bad input with BAD_USER_INPUT and keeps what was saved', async () => {
    const caller = createTestCaller();
    const first = await subgraph.call(caller, createLead, { input: { email: 'dup@example.com', firstName: 'First' } });
    expect(first.errors).toBeUndefined();

    const duplicate = await subgraph.call(caller, createLead, { input: { email: 'DUP@example.com', firstName: 'Second' } });
    expect(duplicate.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(duplicate.errors?.[0]?.message).toContain(first.data!['createLead'].id);

    const badEmail = await subgraph.call(caller, createLead, { input: { email: 'not-an-email' } });
    expect(badEmail.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'email' } });
    expect(badEmail.errors?.[0]?.message).toMatch(/email/);

    const empty = await subgraph.call(caller, createLead, { input: { phone: '+1 555' } });
    expect(empty.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const unknownCompany = await subgraph.call(caller, createLead, { input: { firstName: 'X', companyId: '9b2f5f9e-1f7c-4a51-9a35-1f8b7d4f0e11' } });
    expect(unknownCompany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const badCursor = await subgraph.call(caller, `{ leads(after: "garbage") { edges { cursor } } }`);
    expect(badCursor.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const tooMany = await subgraph.call(caller, `{ leads(first: 1000) { edges { cursor } } }`);
    expect(tooMany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const missing = await subgraph.call(caller, `mutation { updateLead(id: "9b2f5f9e-1f7c-4a51-9a35-1f8b7d4f0e11", input: { title: "x" }) { id } }`);
    expect(missing.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');

    const all = await subgraph.call(caller, `{ leads { edges { node { email firstName } } } }`);
    expect(all.data!['leads'].edges).toEqual([{ node: { email: 'dup@example.com', firstName: 'First' } }]);
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read, list, change or resolve by reference tenant A’s lead', async () => {
    const created = await subgraph.call(tenantA, createLead, { input: { firstName: 'Secret', email: 'secret@a.example' } });
    const leadId = created.data!['createLead'].id;

    expect((await subgraph.call(tenantB, `query ($id: ID!) { lead(id: $id) { id } }`, { id: leadId })).data!['lead']).toBeNull();
    const listed = await subgraph.call(tenantB, `{ leads(filter: { search: "Secret" }) { edges { node { id } } } }`);
    expect(listed.data!['leads'].edges).toEqual([]);
    const changed = await subgraph.call(tenantB, `mutation ($id: ID!) { updateLead(id: $id, input: { firstName: "Hacked" }) { id } }`, { id: leadId });
    expect(changed.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const referenced = await subgraph.call(tenantB, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Lead { id firstName } } }`, {
      representations: [{ __typename: 'Lead', id: leadId }],
    });
    expect(referenced.data!['_entities']).toEqual([null]);
    // Tenant B may use the same email: uniqueness is per tenant.
    expect((await subgraph.call(tenantB, createLead, { input: { email: 'secret@a.example' } })).errors).toBeUndefined();

    const stillThere = await subgraph.call(tenantA, `query ($id: ID!) { lead(id: $id) { firstName } }`, { id: leadId });
    expect(stillThere.data!['lead']).toEqual({ firstName: 'Secret' });
  });

  it('refuses a request that the gateway did not sign, _entities included', async () => {
    const unsigned = await postGraphQL(subgraph.app.url, { query: `{ _entities(representations: [{ __typename: "Lead", id: "x" }]) { __typename } }` });
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const forged = await postGraphQL(subgraph.app.url, { query: '{ leads { edges { cursor } } }' }, { 'x-gtm-caller': 'eyJhbGciOiJub25lIn0.eyJjYWxsZXIiOnt9fQ.' });
    expect(forged.status).toBe(401);
  });
});

describe('entity references', () => {
  it('resolves 100 references with a constant number of SQL queries', async () => {
    const caller = createTestCaller();
    const company = await subgraph.call(caller, createCompany, { input: { name: 'Intryc', websiteUrl: 'https://intryc.com' } });
    const ids: string[] = [];
    for (let index = 0; index < 100; index += 1) {
      const result = await subgraph.call(caller, createLead, { input: { firstName: `Ref${index}`, companyId: company.data!['createCompany'].id } });
      ids.push(result.data!['createLead'].id);
    }
    // The leads' events are handled in the background (pushing them to connected CRMs): their
    // queries are no part of the request counted below, so they are let finish first.
    const connection = subgraph.app.database.orm.em.getConnection();
    await waitFor(async () => {
      const [row] = await connection.execute<Array<{ pending: string }>>(`select (select count(*) from crm.event_outbox) + (select count(*) from gtm_events.delivery) as pending`);
      return Number(row!.pending) === 0 ? true : undefined;
    }, 120_000);
    const resolve = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Lead { id firstName company { name } } } }`;
    const countQueries = async (count: number) => {
      subgraph.queries.length = 0;
      const result = await subgraph.call(caller, resolve, { representations: ids.slice(0, count).map((id) => ({ __typename: 'Lead', id })) });
      expect(result.errors).toBeUndefined();
      expect(result.data!['_entities']).toHaveLength(count);
      expect(result.data!['_entities'][count - 1]).toEqual({ id: ids[count - 1], firstName: `Ref${count - 1}`, company: { name: 'Intryc' } });
      // Only reads of the tables the references resolve from: the app's periodic background work
      // (event consumers, sweeps) may run statements of its own while the request is answered.
      return subgraph.queries.filter((sql) => /\bselect\b/i.test(sql) && /"crm"\."(lead|company)"/.test(sql)).length;
    };
    const forOne = await countQueries(1);
    const forHundred = await countQueries(100);
    // One query for the leads, one for their companies, whatever the number of references.
    expect(forOne).toBe(2);
    expect(forHundred).toBe(forOne);
  });
});

describe('health', () => {
  it('reports PostgreSQL and Redis as up', async () => {
    const response = await fetch(subgraph.app.url.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'crm-service', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });
});
