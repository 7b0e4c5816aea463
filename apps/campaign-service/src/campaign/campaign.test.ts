import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, postGraphQL, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const tenantA = createTestCaller();
const tenantB = createTestCaller();

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

const createCampaign = `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id name websiteUrl userContext website { url } createdAt updatedAt } }`;
const renameCampaign = `mutation ($id: ID!, $name: String!) { renameCampaign(id: $id, name: $name) { id name updatedAt } }`;
const readCampaign = `query ($id: ID!) { campaign(id: $id) { id name websiteUrl userContext website { url } } }`;
const listCampaigns = `query ($first: Int, $after: String, $filter: CampaignFilter) { campaigns(first: $first, after: $after, filter: $filter) { edges { cursor node { name websiteUrl } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
const websiteCampaigns = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Website { url campaigns { name websiteUrl } } } }`;
const missingId = '9b2f5f9e-1f7c-4a51-9a35-1f8b7d4f0e11';

const namesOf = (connection: { edges: { node: { name: string } }[] }) => connection.edges.map((edge) => edge.node.name);

describe('campaigns', () => {
  it('creates a campaign from a bare website, normalising the URL and naming it after the domain', async () => {
    const created = await subgraph.call(tenantA, createCampaign, { input: { websiteUrl: 'Blossomer.io/', userContext: '  We sell GTM research to B2B founders.  ' } });
    expect(created.errors).toBeUndefined();
    const campaign = created.data!['createCampaign'];
    expect(campaign).toMatchObject({
      name: 'blossomer.io',
      websiteUrl: 'https://blossomer.io',
      userContext: 'We sell GTM research to B2B founders.',
      website: { url: 'https://blossomer.io' },
    });
    expect(Date.parse(campaign.createdAt)).not.toBeNaN();

    const read = await subgraph.call(tenantA, readCampaign, { id: campaign.id });
    expect(read.data!['campaign']).toEqual({
      id: campaign.id,
      name: 'blossomer.io',
      websiteUrl: 'https://blossomer.io',
      userContext: 'We sell GTM research to B2B founders.',
      website: { url: 'https://blossomer.io' },
    });
  });

  it('keeps a given name, drops the www. from a default one and stores no context when none is given', async () => {
    const caller = createTestCaller();
    const named = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'https://www.Intryc.com/#pricing', name: '  Intryc Q3 outbound ' } });
    expect(named.data!['createCampaign']).toMatchObject({ name: 'Intryc Q3 outbound', websiteUrl: 'https://www.intryc.com', userContext: null });
    const defaulted = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'www.panfactum.com', name: '   ', userContext: '' } });
    expect(defaulted.data!['createCampaign']).toMatchObject({ name: 'panfactum.com', websiteUrl: 'https://www.panfactum.com', userContext: null });
  });

  it('renames a campaign and keeps the new name', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'acme.com' } });
    const { id, updatedAt } = created.data!['createCampaign'];

    const renamed = await subgraph.call(caller, renameCampaign, { id, name: '  Acme enterprise push ' });
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data!['renameCampaign']).toMatchObject({ id, name: 'Acme enterprise push' });
    expect(Date.parse(renamed.data!['renameCampaign'].updatedAt)).toBeGreaterThan(Date.parse(updatedAt));

    const read = await subgraph.call(caller, readCampaign, { id });
    expect(read.data!['campaign']).toMatchObject({ name: 'Acme enterprise push', websiteUrl: 'https://acme.com' });
  });

  it('lists campaigns newest first as a Relay connection, with stable pages', async () => {
    const caller = createTestCaller();
    for (let index = 0; index < 7; index += 1) {
      const result = await subgraph.call(caller, createCampaign, { input: { websiteUrl: `site${index}.example.com`, name: `Campaign ${index}` } });
      expect(result.errors).toBeUndefined();
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const result: { data?: Record<string, any> | null } = await subgraph.call(caller, listCampaigns, { first: 3, after });
      const connection = result.data!['campaigns'];
      expect(connection.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...namesOf(connection));
      pages += 1;
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['Campaign 6', 'Campaign 5', 'Campaign 4', 'Campaign 3', 'Campaign 2', 'Campaign 1', 'Campaign 0']);
  });

  it('filters by a case-insensitive name search and by the normalised website', async () => {
    const caller = createTestCaller();
    const inputs = [
      { websiteUrl: 'https://blossomer.io', name: 'Blossomer founders' },
      { websiteUrl: 'https://blossomer.io', name: 'Blossomer agencies' },
      { websiteUrl: 'https://intryc.com', name: 'Intryc support leaders' },
      { websiteUrl: 'https://intryc.com/careers', name: '100% quality' },
    ];
    for (const input of inputs) expect((await subgraph.call(caller, createCampaign, { input })).errors).toBeUndefined();

    const search = await subgraph.call(caller, listCampaigns, { filter: { search: 'BLOSSOMER' } });
    expect(namesOf(search.data!['campaigns'])).toEqual(['Blossomer agencies', 'Blossomer founders']);
    const middle = await subgraph.call(caller, listCampaigns, { filter: { search: 'support' } });
    expect(namesOf(middle.data!['campaigns'])).toEqual(['Intryc support leaders']);
    // `%` is matched literally, not as a wildcard.
    const literal = await subgraph.call(caller, listCampaigns, { filter: { search: '0%' } });
    expect(namesOf(literal.data!['campaigns'])).toEqual(['100% quality']);

    const byWebsite = await subgraph.call(caller, listCampaigns, { filter: { websiteUrl: 'Intryc.com/' } });
    expect(namesOf(byWebsite.data!['campaigns'])).toEqual(['Intryc support leaders']);
    const both = await subgraph.call(caller, listCampaigns, { filter: { websiteUrl: 'blossomer.io', search: 'agenc' } });
    expect(namesOf(both.data!['campaigns'])).toEqual(['Blossomer agencies']);
    const none = await subgraph.call(caller, listCampaigns, { filter: { websiteUrl: 'https://unknown.example' } });
    expect(none.data!['campaigns'].edges).toEqual([]);
  });

  it('rejects bad input with BAD_USER_INPUT or NOT_FOUND and saves nothing', async () => {
    const caller = createTestCaller();
    const ftp = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'ftp://x' } });
    expect(ftp.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'websiteUrl' } });
    const noHost = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'not a website' } });
    expect(noHost.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'websiteUrl' } });
    const longContext = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'acme.com', userContext: 'x'.repeat(5_001) } });
    expect(longContext.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'userContext' } });
    const longName = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'acme.com', name: 'x'.repeat(201) } });
    expect(longName.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'name' } });
    const missingUrl = await subgraph.call(caller, `mutation { createCampaign(input: { name: "No site" }) { id } }`);
    expect(missingUrl.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');

    const maximal = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'acme.com', name: 'n'.repeat(200), userContext: 'c'.repeat(5_000) } });
    expect(maximal.errors).toBeUndefined();
    const id = maximal.data!['createCampaign'].id;

    const empty = await subgraph.call(caller, renameCampaign, { id, name: '   ' });
    expect(empty.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'name' } });
    const tooLong = await subgraph.call(caller, renameCampaign, { id, name: 'y'.repeat(201) });
    expect(tooLong.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'name' } });
    const unknown = await subgraph.call(caller, renameCampaign, { id: missingId, name: 'Anything' });
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const notAnId = await subgraph.call(caller, renameCampaign, { id: 'campaign-1', name: 'Anything' });
    expect(notAnId.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');

    const badFilter = await subgraph.call(caller, listCampaigns, { filter: { websiteUrl: 'ftp://x' } });
    expect(badFilter.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'filter.websiteUrl' } });
    const badCursor = await subgraph.call(caller, listCampaigns, { after: 'garbage' });
    expect(badCursor.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const tooMany = await subgraph.call(caller, listCampaigns, { first: 1_000 });
    expect(tooMany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    expect((await subgraph.call(caller, readCampaign, { id: missingId })).data!['campaign']).toBeNull();
    expect((await subgraph.call(caller, readCampaign, { id: 'campaign-1' })).data!['campaign']).toBeNull();
    const all = await subgraph.call(caller, listCampaigns, {});
    expect(all.data!['campaigns'].edges).toEqual([{ cursor: expect.any(String), node: { name: 'n'.repeat(200), websiteUrl: 'https://acme.com' } }]);
  });
});

describe('websites analysis always refuses', () => {
  it('are refused at creation with FORBIDDEN and the fetcher’s reason, and nothing is saved', async () => {
    const caller = createTestCaller();
    const refused = {
      'http://127.0.0.1:8080': '127.0.0.1:8080 is a loopback address 127.0.0.1, which is never fetched.',
      'http://169.254.169.254/latest/meta-data': '169.254.169.254 is a link-local (cloud metadata) address 169.254.169.254, which is never fetched.',
      'http://10.1.2.3': '10.1.2.3 is a private address 10.1.2.3, which is never fetched.',
      'https://192.168.0.10': '192.168.0.10 is a private address 192.168.0.10, which is never fetched.',
      'http://localhost:4000': 'localhost:4000 is an internal name, which is never fetched.',
      'metadata.google.internal': 'metadata.google.internal is an internal name, which is never fetched.',
    };
    for (const [websiteUrl, message] of Object.entries(refused)) {
      const answer = await subgraph.call(caller, createCampaign, { input: { websiteUrl } });
      expect(answer.errors?.[0]).toMatchObject({ message, extensions: { code: 'FORBIDDEN', field: 'websiteUrl' } });
    }
    // IPv6 literals are not website host names at all.
    const ipv6 = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'http://[::1]:3000' } });
    expect(ipv6.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect((await subgraph.call(caller, listCampaigns, {})).data!['campaigns'].edges).toEqual([]);
    // Public addresses, by name or number, are for analysis to judge.
    expect((await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'http://93.184.215.14' } })).errors).toBeUndefined();
  });
});

describe('Website.campaigns', () => {
  it('returns each website’s campaigns for the caller’s tenant only, newest first', async () => {
    const caller = createTestCaller();
    const other = createTestCaller();
    await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'https://shared-site.example', name: 'First' } });
    await subgraph.call(other, createCampaign, { input: { websiteUrl: 'https://shared-site.example', name: 'Other tenant' } });
    await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'Shared-Site.example/', name: 'Second' } });
    await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'https://own-site.example', name: 'Own' } });

    const representations = ['https://shared-site.example', 'https://own-site.example', 'https://nobody.example', ''].map((url) => ({ __typename: 'Website', url }));
    const mine = await subgraph.call(caller, websiteCampaigns, { representations });
    expect(mine.errors).toBeUndefined();
    expect(mine.data!['_entities']).toEqual([
      {
        url: 'https://shared-site.example',
        campaigns: [
          { name: 'Second', websiteUrl: 'https://shared-site.example' },
          { name: 'First', websiteUrl: 'https://shared-site.example' },
        ],
      },
      { url: 'https://own-site.example', campaigns: [{ name: 'Own', websiteUrl: 'https://own-site.example' }] },
      { url: 'https://nobody.example', campaigns: [] },
      { url: '', campaigns: [] },
    ]);

    const theirs = await subgraph.call(other, websiteCampaigns, { representations: representations.slice(0, 2) });
    expect(theirs.data!['_entities']).toEqual([
      { url: 'https://shared-site.example', campaigns: [{ name: 'Other tenant', websiteUrl: 'https://shared-site.example' }] },
      { url: 'https://own-site.example', campaigns: [] },
    ]);
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read, list, rename or resolve by reference tenant A’s campaign', async () => {
    const created = await subgraph.call(tenantA, createCampaign, { input: { websiteUrl: 'secret-site.example', name: 'Secret plan' } });
    const id = created.data!['createCampaign'].id;

    expect((await subgraph.call(tenantB, readCampaign, { id })).data!['campaign']).toBeNull();
    const listed = await subgraph.call(tenantB, listCampaigns, { filter: { search: 'Secret' } });
    expect(listed.data!['campaigns'].edges).toEqual([]);
    const byWebsite = await subgraph.call(tenantB, listCampaigns, { filter: { websiteUrl: 'secret-site.example' } });
    expect(byWebsite.data!['campaigns'].edges).toEqual([]);
    const renamed = await subgraph.call(tenantB, renameCampaign, { id, name: 'Hacked' });
    expect(renamed.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const referenced = await subgraph.call(tenantB, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Campaign { id name } } }`, {
      representations: [{ __typename: 'Campaign', id }],
    });
    expect(referenced.data!['_entities']).toEqual([null]);
    const website = await subgraph.call(tenantB, websiteCampaigns, { representations: [{ __typename: 'Website', url: 'https://secret-site.example' }] });
    expect(website.data!['_entities']).toEqual([{ url: 'https://secret-site.example', campaigns: [] }]);

    const stillThere = await subgraph.call(tenantA, readCampaign, { id });
    expect(stillThere.data!['campaign']).toMatchObject({ name: 'Secret plan' });
  });

  it('refuses a request that the gateway did not sign, _entities included', async () => {
    const unsigned = await postGraphQL(subgraph.app.url, { query: `{ _entities(representations: [{ __typename: "Website", url: "https://blossomer.io" }]) { __typename } }` });
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const unsignedMutation = await postGraphQL(subgraph.app.url, { query: 'mutation { createCampaign(input: { websiteUrl: "acme.com" }) { id } }' });
    expect(unsignedMutation.status).toBe(401);
    const forged = await postGraphQL(subgraph.app.url, { query: '{ campaigns { edges { cursor } } }' }, { 'x-gtm-caller': 'eyJhbGciOiJub25lIn0.eyJjYWxsZXIiOnt9fQ.' });
    expect(forged.status).toBe(401);
  });
});

describe('entity references', () => {
  const caller = createTestCaller();
  const campaigns: { id: string; websiteUrl: string }[] = [];

  beforeAll(async () => {
    for (let index = 0; index < 100; index += 1) {
      const result = await subgraph.call(caller, createCampaign, { input: { websiteUrl: `reference${index}.example.com`, name: `Reference ${index}` } });
      campaigns.push(result.data!['createCampaign']);
    }
  });

  const campaignRepresentations = (count: number) => campaigns.slice(0, count).map(({ id }) => ({ __typename: 'Campaign', id }));
  const websiteRepresentations = (count: number) => campaigns.slice(0, count).map(({ websiteUrl }) => ({ __typename: 'Website', url: websiteUrl }));

  const countSelects = async (query: string, representations: object[]) => {
    subgraph.queries.length = 0;
    const result = await subgraph.call(caller, query, { representations });
    expect(result.errors).toBeUndefined();
    expect(result.data!['_entities']).toHaveLength(representations.length);
    // No leading \b: MikroORM colours its log lines, so `select` follows an escape code ending in `m`.
    return { result, selects: subgraph.queries.filter((sql) => /select\s/i.test(sql)).length };
  };

  it('resolves 100 Campaign references with a constant number of SQL queries', async () => {
    const resolve = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Campaign { id name website { url } } } }`;
    const one = await countSelects(resolve, campaignRepresentations(1));
    const hundred = await countSelects(resolve, campaignRepresentations(100));
    expect(hundred.result.data!['_entities'][99]).toEqual({ id: campaigns[99]!.id, name: 'Reference 99', website: { url: 'https://reference99.example.com' } });
    expect(hundred.selects).toBe(one.selects);
    expect(hundred.selects).toBe(1);
  });

  it('resolves 100 Website references with their campaigns at the cost of one', async () => {
    const one = await countSelects(websiteCampaigns, websiteRepresentations(1));
    const hundred = await countSelects(websiteCampaigns, websiteRepresentations(100));
    expect(hundred.result.data!['_entities'][99]).toEqual({
      url: 'https://reference99.example.com',
      campaigns: [{ name: 'Reference 99', websiteUrl: 'https://reference99.example.com' }],
    });
    expect(hundred.selects).toBe(one.selects);
    expect(hundred.selects).toBe(1);
  });
});

describe('health', () => {
  it('reports PostgreSQL and Redis as up', async () => {
    const response = await fetch(subgraph.app.url.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'campaign-service', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });
});
