import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CallerContext } from '@gtm/caller';
import { type SubgraphUnderTest, createTestCaller, postGraphQL, startSubgraphUnderTest } from '@gtm/testing';
import { createApp, type ContentApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createContentLoaders } from '../loaders.js';
import type { WebsiteFields } from './website.service.js';

let subgraph: SubgraphUnderTest<ContentApp>;
const tenantA = createTestCaller();
const tenantB = createTestCaller();

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

/** Stores a website as the analysis will: through the service, in a request-like tenant scope. */
async function storeWebsite(caller: CallerContext, fields: WebsiteFields) {
  const em = subgraph.app.database.forkForTenant(caller.tenantId);
  return subgraph.app.services.websites.upsertWebsite({ em, caller, loaders: createContentLoaders(em, caller), logger: subgraph.app.logger }, fields);
}

const websiteQuery = `query ($url: String!) { website(url: $url) { url domain title description summary analyzedAt } }`;
const resolveWebsites = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Website { url domain title summary analyzedAt } } }`;
const resolveCompanies = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Company { id website { url domain title analyzedAt } } } }`;
const analyzedAt = new Date('2026-11-20T09:30:00.000Z');

describe('website', () => {
  it('finds a stored website by any spelling of its URL', async () => {
    await storeWebsite(tenantA, { url: 'https://blossomer.io', title: 'Blossomer', description: 'AI GTM engineer', summary: 'Blossomer builds outbound campaigns.', analyzedAt });

    const result = await subgraph.call(tenantA, websiteQuery, { url: 'https://Blossomer.io/' });
    expect(result.errors).toBeUndefined();
    expect(result.data!['website']).toEqual({
      url: 'https://blossomer.io',
      domain: 'blossomer.io',
      title: 'Blossomer',
      description: 'AI GTM engineer',
      summary: 'Blossomer builds outbound campaigns.',
      analyzedAt: '2026-11-20T09:30:00.000Z',
    });
    const bareHost = await subgraph.call(tenantA, websiteQuery, { url: 'blossomer.io#pricing' });
    expect(bareHost.data!['website']).toMatchObject({ url: 'https://blossomer.io', title: 'Blossomer' });
  });

  it('rejects a malformed URL with BAD_USER_INPUT and returns null for an unknown one', async () => {
    for (const url of ['not a url', 'ftp://files.example.com', 'localhostless']) {
      const result = await subgraph.call(tenantA, websiteQuery, { url });
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'url' } });
      expect(result.data?.['website'] ?? null).toBeNull();
    }
    const unknown = await subgraph.call(tenantA, websiteQuery, { url: 'https://never-analysed.example.com' });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data!['website']).toBeNull();
  });

  it('updates the one stored website on a second analysis instead of adding another', async () => {
    const caller = createTestCaller();
    const first = await storeWebsite(caller, { url: 'https://panfactum.com/', title: 'Panfactum', description: 'Platform engineering', summary: 'Old summary' });
    const second = await storeWebsite(caller, { url: 'HTTPS://PANFACTUM.COM', title: 'Panfactum — DevOps', summary: null, analyzedAt });
    expect(second.id).toBe(first.id);

    const read = await subgraph.call(caller, websiteQuery, { url: 'panfactum.com' });
    // Omitted fields keep their value, null clears one.
    expect(read.data!['website']).toEqual({
      url: 'https://panfactum.com',
      domain: 'panfactum.com',
      title: 'Panfactum — DevOps',
      description: 'Platform engineering',
      summary: null,
      analyzedAt: '2026-11-20T09:30:00.000Z',
    });
    const listed = await subgraph.call(caller, `{ websites { edges { node { url } } } }`);
    expect(listed.data!['websites'].edges).toEqual([{ node: { url: 'https://panfactum.com' } }]);
  });

  it('survives two analyses of one site storing at the same time', async () => {
    const caller = createTestCaller();
    const stored = await Promise.all([
      storeWebsite(caller, { url: 'https://intryc.com', title: 'Intryc' }),
      storeWebsite(caller, { url: 'https://www.intryc.com/', title: 'Intryc (www)' }),
      storeWebsite(caller, { url: 'intryc.com', description: 'QA for support teams' }),
    ]);
    expect(stored[0].id).toBe(stored[2].id);
    const listed = await subgraph.call(caller, `{ websites { edges { node { url domain } } } }`);
    expect(listed.data!['websites'].edges.map((edge: any) => edge.node).toSorted((left: any, right: any) => left.url.localeCompare(right.url))).toEqual([
      { url: 'https://intryc.com', domain: 'intryc.com' },
      { url: 'https://www.intryc.com', domain: 'intryc.com' },
    ]);
  });

  it('lists websites newest first in stable pages', async () => {
    const caller = createTestCaller();
    for (let index = 0; index < 5; index += 1) await storeWebsite(caller, { url: `https://site${index}.example.com`, title: `Site ${index}` });
    const page = `query ($after: String) { websites(first: 2, after: $after) { edges { node { title } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: { data?: Record<string, any> | null } = await subgraph.call(caller, page, { after });
      const connection: { edges: { node: { title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = result.data!['websites'];
      seen.push(...connection.edges.map((edge) => edge.node.title));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(['Site 4', 'Site 3', 'Site 2', 'Site 1', 'Site 0']);
    const badCursor = await subgraph.call(caller, `{ websites(after: "garbage") { edges { cursor } } }`);
    expect(badCursor.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});

describe('entity references', () => {
  it('resolves a Website reference to the stored website, or to an unanalysed one', async () => {
    const result = await subgraph.call(tenantA, resolveWebsites, {
      representations: [
        { __typename: 'Website', url: 'https://blossomer.io' },
        { __typename: 'Website', url: 'https://www.Unknown.example.org/' },
        { __typename: 'Website', url: 'not a url' },
      ],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!['_entities']).toEqual([
      { url: 'https://blossomer.io', domain: 'blossomer.io', title: 'Blossomer', summary: 'Blossomer builds outbound campaigns.', analyzedAt: '2026-11-20T09:30:00.000Z' },
      { url: 'https://www.unknown.example.org', domain: 'unknown.example.org', title: null, summary: null, analyzedAt: null },
      null,
    ]);
  });

  it('adds website to a Company from the websiteUrl crm provides', async () => {
    const result = await subgraph.call(tenantA, resolveCompanies, {
      representations: [
        { __typename: 'Company', id: 'c1', websiteUrl: 'https://blossomer.io' },
        { __typename: 'Company', id: 'c2', websiteUrl: null },
        { __typename: 'Company', id: 'c3', websiteUrl: 'https://not-analysed.example.com' },
        { __typename: 'Company', id: 'c4', websiteUrl: 'not a url' },
      ],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!['_entities']).toEqual([
      { id: 'c1', website: { url: 'https://blossomer.io', domain: 'blossomer.io', title: 'Blossomer', analyzedAt: '2026-11-20T09:30:00.000Z' } },
      { id: 'c2', website: null },
      { id: 'c3', website: { url: 'https://not-analysed.example.com', domain: 'not-analysed.example.com', title: null, analyzedAt: null } },
      { id: 'c4', website: null },
    ]);
  });

  it('resolves 100 Website and Company references with a constant number of SQL queries', async () => {
    const caller = createTestCaller();
    const urls = Array.from({ length: 100 }, (_, index) => `https://ref${index}.example.com`);
    // Half analysed, half not: both kinds come out of the same batch.
    for (const [index, url] of urls.entries()) if (index % 2 === 0) await storeWebsite(caller, { url, title: `Ref ${index}` });

    const countQueries = async (query: string, representations: object[]) => {
      subgraph.queries.length = 0;
      const result = await subgraph.call(caller, query, { representations });
      expect(result.errors).toBeUndefined();
      expect(result.data!['_entities']).toHaveLength(representations.length);
      return { entities: result.data!['_entities'], selects: subgraph.queries.filter((sql) => /\bselect\b/i.test(sql)).length };
    };
    const websiteOne = await countQueries(resolveWebsites, [{ __typename: 'Website', url: urls[0] }]);
    const websiteHundred = await countQueries(resolveWebsites, urls.map((url) => ({ __typename: 'Website', url })));
    expect(websiteOne.entities[0]).toMatchObject({ url: urls[0], title: 'Ref 0' });
    expect(websiteHundred.entities[98]).toMatchObject({ url: urls[98], title: 'Ref 98' });
    expect(websiteHundred.entities[99]).toMatchObject({ url: urls[99], title: null });
    // One query for all the websites, whatever the number of references.
    expect(websiteOne.selects).toBe(1);
    expect(websiteHundred.selects).toBe(websiteOne.selects);

    const companyOne = await countQueries(resolveCompanies, [{ __typename: 'Company', id: 'c0', websiteUrl: urls[0] }]);
    const companyHundred = await countQueries(resolveCompanies, urls.map((url, index) => ({ __typename: 'Company', id: `c${index}`, websiteUrl: url })));
    expect(companyHundred.entities[98]).toEqual({ id: 'c98', website: { url: urls[98], domain: 'ref98.example.com', title: 'Ref 98', analyzedAt: null } });
    expect(companyOne.selects).toBe(1);
    expect(companyHundred.selects).toBe(companyOne.selects);
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read, list or resolve by reference tenant A’s website', async () => {
    await storeWebsite(tenantA, { url: 'https://secret.example.com', title: 'A’s secret analysis', summary: 'Only tenant A may see this.', analyzedAt });

    expect((await subgraph.call(tenantB, websiteQuery, { url: 'https://secret.example.com' })).data!['website']).toBeNull();
    expect((await subgraph.call(tenantB, `{ websites { edges { node { url } } } }`)).data!['websites'].edges).toEqual([]);

    const website = await subgraph.call(tenantB, resolveWebsites, { representations: [{ __typename: 'Website', url: 'https://secret.example.com' }] });
    expect(website.data!['_entities']).toEqual([{ url: 'https://secret.example.com', domain: 'secret.example.com', title: null, summary: null, analyzedAt: null }]);
    const company = await subgraph.call(tenantB, resolveCompanies, { representations: [{ __typename: 'Company', id: 'b1', websiteUrl: 'https://secret.example.com' }] });
    expect(company.data!['_entities']).toEqual([{ id: 'b1', website: { url: 'https://secret.example.com', domain: 'secret.example.com', title: null, analyzedAt: null } }]);

    // Tenant B analysing the same site gets its own row; A's stays as it was.
    await storeWebsite(tenantB, { url: 'https://secret.example.com', title: 'B’s own analysis' });
    expect((await subgraph.call(tenantB, websiteQuery, { url: 'https://secret.example.com' })).data!['website']).toMatchObject({ title: 'B’s own analysis', summary: null });
    expect((await subgraph.call(tenantA, websiteQuery, { url: 'https://secret.example.com' })).data!['website']).toMatchObject({ title: 'A’s secret analysis', summary: 'Only tenant A may see this.' });
  });

  it('refuses a request that the gateway did not sign, _entities included', async () => {
    const unsigned = await postGraphQL(subgraph.app.url, { query: `{ _entities(representations: [{ __typename: "Website", url: "https://blossomer.io" }]) { __typename } }` });
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const forged = await postGraphQL(subgraph.app.url, { query: '{ websites { edges { cursor } } }' }, { 'x-gtm-caller': 'eyJhbGciOiJub25lIn0.eyJjYWxsZXIiOnt9fQ.' });
    expect(forged.status).toBe(401);
  });
});

describe('health', () => {
  it('reports PostgreSQL and Redis as up', async () => {
    const response = await fetch(subgraph.app.url.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'content-service', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });
});
