import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lookup } from 'node:dns/promises';
import { createTestCaller, startFixtureSite, startSubgraphUnderTest, waitFor, type FixtureSite, type SubgraphUnderTest } from '@gtm/testing';
import { createApp, type ContentApp } from '../app.js';
import { loadConfig } from '../config.js';

const northwind = fileURLToPath(new URL('../../fixtures/northwind-site', import.meta.url));
const northwindIndex = readFileSync(`${northwind}/index.html`, 'utf8');

let site: FixtureSite;
let subgraph: SubgraphUnderTest<ContentApp>;
let homeFails = false;
let careersFails = false;
const sleeps: number[] = [];
const clock = { offsetMs: 0 };

const analyze = `mutation ($url: String!, $refresh: Boolean) {
  analyzeWebsite(url: $url, refresh: $refresh) {
    url domain title description summary extractiveSummary summaryProvider source analyzedAt
    pages { url title kind wordCount }
    quality { level score gaps }
    contacts { emails phones socialLinks { network url } }
    teamMembers { name title pageUrl }
    technologies { name category }
    skippedPages { url reason }
  }
}`;
const search = `query ($url: String!, $query: String!, $limit: Int) { website(url: $url) { search(query: $query, limit: $limit) { text pageUrl heading headingPath score } } }`;

beforeAll(async () => {
  // One site for the happy path, with extra paths for each kind of bad answer.
  site = await startFixtureSite(northwind, {
    '/': (_request, response) => {
      if (homeFails) return void response.writeHead(503).end();
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(northwindIndex.replaceAll('{{origin}}', site.origin));
    },
    '/careers': (_request, response) => {
      if (careersFails) return void response.writeHead(503).end();
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(readFileSync(`${northwind}/careers.html`, 'utf8').replaceAll('{{origin}}', site.origin));
    },
    '/data.json': (_request, response) => void response.writeHead(200, { 'content-type': 'application/json' }).end('{"not":"a page"}'),
    '/huge': (_request, response) => void response.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body>${'<p>word </p>'.repeat(40_000)}</body></html>`),
    '/loop-a': (_request, response) => void response.writeHead(302, { location: '/loop-b' }).end(),
    '/loop-b': (_request, response) => void response.writeHead(302, { location: '/loop-a' }).end(),
  });
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(
      loadConfig({ ...environment, LOG_LEVEL: 'error', CONTENT_FETCH_ALLOWLIST: site.host, CONTENT_FETCH_MAX_BYTES: '200000', CONTENT_FETCH_TIMEOUT_MS: '3000' }),
      {
        onQuery,
        now: () => new Date(Date.now() + clock.offsetMs),
        crawlSleep: async (milliseconds) => void sleeps.push(milliseconds),
        // `nowhere.test` never resolves; everything else resolves as usual.
        resolveHost: async (hostname) => {
          if (hostname === 'nowhere.test') throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          return lookup(hostname, { all: true, verbatim: true });
        },
      },
    ),
  );
});

afterAll(async () => {
  await subgraph?.close();
  await site?.close();
});

beforeEach(() => {
  homeFails = false;
  careersFails = false;
  clock.offsetMs = 0;
});

const pathsOf = (pages: Array<{ url: string }>) => pages.map((page) => new URL(page.url).pathname);
const requestsFor = (path: string) => site.requests.filter((request) => request.path === path).length;

describe('analyzeWebsite on a multi-page site', () => {
  const caller = createTestCaller();
  let analysis: Record<string, any>;

  beforeAll(async () => {
    sleeps.length = 0;
    const before = site.requests.length;
    const result = await subgraph.call(caller, analyze, { url: site.origin });
    expect(result.errors).toBeUndefined();
    analysis = result.data!['analyzeWebsite'];
    analysis['requestsMade'] = site.requests.length - before;
  });

  it('reads the home page and the most informative pages, never one robots.txt forbids', () => {
    expect(analysis['url']).toBe(site.origin);
    expect(analysis['title']).toContain('Northwind Ledger');
    expect(analysis['source']).toBe('DIRECT');
    const kinds = Object.fromEntries(analysis['pages'].map((page: any) => [new URL(page.url).pathname, page.kind]));
    expect(kinds).toEqual({ '/': 'HOME', '/product': 'PRODUCT', '/pricing': 'PRICING', '/customers': 'CUSTOMERS', '/about': 'ABOUT', '/careers': 'CAREERS', '/blog/close-faster': 'BLOG' });
    expect(analysis['pages'][0].kind).toBe('HOME');
    expect(requestsFor('/private')).toBe(0);
    for (const page of analysis['pages']) expect(page.wordCount).toBeGreaterThan(20);
  });

  it('waits the Crawl-delay between every two requests to the site', () => {
    // robots.txt, home, sitemap and six pages: a wait before each request but the first.
    expect(sleeps).toEqual(Array.from({ length: analysis['requestsMade'] - 1 }, () => 200));
  });

  it('extracts contacts, team members and technologies', () => {
    expect(analysis['contacts'].emails).toContain('hello@northwindledger.com');
    expect(analysis['contacts'].socialLinks.map((link: any) => link.network)).toEqual(expect.arrayContaining(['linkedin']));
    expect(analysis['teamMembers']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Maya Okafor', title: expect.stringContaining('CEO') }),
        expect.objectContaining({ name: 'Lucas Brandt', title: expect.stringContaining('CTO') }),
        expect.objectContaining({ name: 'Priya Raman', title: expect.stringContaining('VP') }),
      ]),
    );
    expect(analysis['technologies'].length).toBeGreaterThan(0);
  });

  it('scores the site SUFFICIENT with a summary built from its own sentences', () => {
    expect(analysis['quality'].level).toBe('SUFFICIENT');
    expect(analysis['quality'].score).toBeGreaterThan(0.8);
    expect(analysis['summaryProvider']).toBe('offline');
    expect(analysis['summary']).toBe(analysis['extractiveSummary']);
    expect(analysis['summary']).toMatch(/Northwind Ledger/);
  });

  it('ranks the passages that answer a search first', async () => {
    const pricing = await subgraph.call(caller, search, { url: site.origin, query: 'price per user per month', limit: 3 });
    expect(pricing.errors).toBeUndefined();
    const pricingHits = pricing.data!['website'].search;
    expect(pricingHits.length).toBeGreaterThan(0);
    expect(pricingHits.length).toBeLessThanOrEqual(3);
    expect(new URL(pricingHits[0].pageUrl).pathname).toBe('/pricing');
    expect(pricingHits[0].text).toMatch(/\$49|\$99/);
    const scores = pricingHits.map((hit: any) => hit.score);
    expect(scores).toEqual(scores.toSorted((first: number, second: number) => second - first));

    const customers = await subgraph.call(caller, search, { url: site.origin, query: 'Brightline close days', limit: 5 });
    expect(customers.data!['website'].search[0].text).toMatch(/Brightline/);

    const nothing = await subgraph.call(caller, search, { url: site.origin, query: 'kubernetes helm', limit: 5 });
    expect(nothing.data!['website'].search).toEqual([]);
  });

  it('answers the searches of many references in one SQL query', async () => {
    const representations = [site.origin, 'https://not-analysed.example.com', `${site.origin}/`].map((url) => ({ __typename: 'Website', url }));
    subgraph.queries.length = 0;
    const result = await subgraph.call(
      caller,
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Website { url pricing: search(query: "pricing", limit: 1) { pageUrl } team: search(query: "team CEO", limit: 2) { pageUrl } } } }`,
      { representations },
    );
    expect(result.errors).toBeUndefined();
    const [analysed, unanalysed] = result.data!['_entities'];
    expect(new URL(analysed.pricing[0].pageUrl).pathname).toBe('/pricing');
    expect(new URL(analysed.team[0].pageUrl).pathname).toBe('/about');
    expect(unanalysed).toEqual({ url: 'https://not-analysed.example.com', pricing: [], team: [] });
    expect(subgraph.queries.filter((sql) => sql.includes('content_chunk'))).toHaveLength(1);
  });

  it('refuses an empty search and a limit out of range', async () => {
    const empty = await subgraph.call(caller, search, { url: site.origin, query: '  ', limit: 3 });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'query' });
    const tooMany = await subgraph.call(caller, search, { url: site.origin, query: 'pricing', limit: 500 });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
  });

  it('keeps one tenant’s analysis and passages from another', async () => {
    const other = createTestCaller();
    expect((await subgraph.call(other, search, { url: site.origin, query: 'pricing', limit: 3 })).data!['website']).toBeNull();
    const entities = await subgraph.call(other, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Website { analyzedAt quality { level } search(query: "pricing") { text } } } }`, {
      representations: [{ __typename: 'Website', url: site.origin }],
    });
    expect(entities.data!['_entities']).toEqual([{ analyzedAt: null, quality: { level: 'MISSING' }, search: [] }]);
  });
});

describe('caching and sharing', () => {
  it('reuses an analysis within its TTL, crawls again after it or on refresh', async () => {
    const caller = createTestCaller();
    const first = await subgraph.call(caller, analyze, { url: site.origin });
    const homeRequests = requestsFor('/');
    const cached = await subgraph.call(caller, analyze, { url: `${site.origin}/` });
    expect(cached.data!['analyzeWebsite'].analyzedAt).toBe(first.data!['analyzeWebsite'].analyzedAt);
    expect(requestsFor('/')).toBe(homeRequests);

    clock.offsetMs = 25 * 3600 * 1000;
    const expired = await subgraph.call(caller, analyze, { url: site.origin });
    expect(requestsFor('/')).toBe(homeRequests + 1);
    expect(Date.parse(expired.data!['analyzeWebsite'].analyzedAt)).toBeGreaterThan(Date.parse(first.data!['analyzeWebsite'].analyzedAt));

    const refreshed = await subgraph.call(caller, analyze, { url: site.origin, refresh: true });
    expect(refreshed.errors).toBeUndefined();
    expect(requestsFor('/')).toBe(homeRequests + 2);
  });

  it('shares one crawl among ten concurrent analyses of a site', async () => {
    const caller = createTestCaller();
    const homeRequests = requestsFor('/');
    const results = await Promise.all(Array.from({ length: 10 }, () => subgraph.call(caller, analyze, { url: site.origin })));
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(requestsFor('/')).toBe(homeRequests + 1);
    expect(new Set(results.map((result) => result.data!['analyzeWebsite'].analyzedAt)).size).toBe(1);
  });

  it('replaces the pages and passages of the previous analysis, a page no longer read included', async () => {
    const caller = createTestCaller();
    const first = await subgraph.call(caller, analyze, { url: site.origin });
    careersFails = true;
    const second = await subgraph.call(caller, analyze, { url: site.origin, refresh: true });
    expect(second.errors).toBeUndefined();
    expect(pathsOf(second.data!['analyzeWebsite'].pages)).toEqual(pathsOf(first.data!['analyzeWebsite'].pages).filter((path) => path !== '/careers'));
    expect(second.data!['analyzeWebsite'].skippedPages).toContainEqual(expect.objectContaining({ url: `${site.origin}/careers` }));

    // What the analysis answered is what another request reads back: the pages, and each passage once.
    const stored = await subgraph.call(caller, `query ($url: String!) { website(url: $url) { pages { url title kind wordCount } hiring: search(query: "hiring engineer", limit: 50) { pageUrl } all: search(query: "Northwind ledger close finance team", limit: 50) { text } } }`, {
      url: site.origin,
    });
    expect(stored.data!['website'].pages).toEqual(second.data!['analyzeWebsite'].pages);
    expect(stored.data!['website'].hiring.map((hit: { pageUrl: string }) => hit.pageUrl)).not.toContain(`${site.origin}/careers`);
    const texts = stored.data!['website'].all.map((hit: { text: string }) => hit.text);
    expect(texts.length).toBeGreaterThan(3);
    expect(new Set(texts).size).toBe(texts.length);

    careersFails = false;
    const third = await subgraph.call(caller, analyze, { url: site.origin, refresh: true });
    expect(pathsOf(third.data!['analyzeWebsite'].pages)).toEqual(pathsOf(first.data!['analyzeWebsite'].pages));
    const again = await subgraph.call(caller, `query ($url: String!) { website(url: $url) { hiring: search(query: "hiring engineer", limit: 50) { pageUrl } } }`, { url: site.origin });
    expect(again.data!['website'].hiring.map((hit: { pageUrl: string }) => hit.pageUrl)).toContain(`${site.origin}/careers`);
  });

  it('leaves no passage of an analysis that committed while its own statement ran', async () => {
    const caller = createTestCaller();
    await subgraph.call(caller, analyze, { url: site.origin });
    // Another process's analysis of the site, without the Redis lock: it has rewritten the
    // website's row and added its passages, and commits only once this one's write waits on it.
    const { orm } = subgraph.app.database;
    const schema = orm.config.get('schema');
    let commitOther!: () => void;
    const otherMayCommit = new Promise<void>((resolve) => (commitOther = resolve));
    let otherWrote!: () => void;
    const otherHasWritten = new Promise<void>((resolve) => (otherWrote = resolve));
    const other = orm.em.fork().transactional(async (em) => {
      const connection = em.getConnection();
      const [website] = await connection.execute<Array<{ id: string }>>(`update "${schema}".website set updated_at = now() where tenant_id = ? and url = ? returning id`, [caller.tenantId, site.origin], 'all', em.getTransactionContext());
      await connection.execute(
        `insert into "${schema}".content_chunk (id, tenant_id, website_id, page_url, heading, heading_path, heading_trail, text, position, word_count, created_at, updated_at)
         values (gen_random_uuid(), ?, ?, ?, 'Other', '{}', '', 'A passage only the other analysis wrote about zeppelins', 0, 8, now(), now())`,
        [caller.tenantId, website!.id, site.origin],
        'run',
        em.getTransactionContext(),
      );
      otherWrote();
      await otherMayCommit;
    });
    await otherHasWritten;
    const refreshed = subgraph.call(caller, analyze, { url: site.origin, refresh: true });
    // The refreshed analysis's statement waits for the other transaction's row lock.
    const reader = orm.em.fork();
    await waitFor(async () => ((await reader.getConnection().execute<Array<{ waiting: number }>>(`select count(*)::int as waiting from pg_locks where not granted`))[0]!.waiting > 0 ? true : undefined));
    commitOther();
    await other;
    expect((await refreshed).errors).toBeUndefined();

    const stored = await subgraph.call(caller, `query ($url: String!) { website(url: $url) { zeppelins: search(query: "zeppelins", limit: 50) { text } all: search(query: "Northwind ledger close finance team", limit: 50) { text } } }`, {
      url: site.origin,
    });
    expect(stored.data!['website'].zeppelins).toEqual([]);
    const texts = stored.data!['website'].all.map((hit: { text: string }) => hit.text);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('never replaces a good analysis with a failed one', async () => {
    const caller = createTestCaller();
    const good = await subgraph.call(caller, analyze, { url: site.origin });
    homeFails = true;
    const failed = await subgraph.call(caller, analyze, { url: site.origin, refresh: true });
    expect(failed.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    const kept = await subgraph.call(caller, `query ($url: String!) { website(url: $url) { analyzedAt quality { level } pages { kind } } }`, { url: site.origin });
    expect(kept.data!['website']).toMatchObject({ analyzedAt: good.data!['analyzeWebsite'].analyzedAt, quality: { level: 'SUFFICIENT' } });
    expect(kept.data!['website'].pages).toHaveLength(7);
  });
});

describe('bad input', () => {
  const caller = createTestCaller();
  const cases: Array<[string, () => string, string, RegExp]> = [
    ['a malformed URL', () => 'not a url', 'BAD_USER_INPUT', /valid|URL/i],
    ['a private address', () => 'http://10.0.0.7/', 'FORBIDDEN', /private/],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data', 'FORBIDDEN', /link-local/],
    ['loopback not on the allowlist', () => 'http://localhost:9/', 'FORBIDDEN', /loopback/],
    ['an unreachable host', () => 'http://nowhere.test/', 'UPSTREAM_UNAVAILABLE', /nowhere\.test/],
    ['a page that is not HTML', () => `${site.origin}/data.json`, 'BAD_USER_INPUT', /not a web page/],
    ['an oversize page', () => `${site.origin}/huge`, 'BAD_USER_INPUT', /larger than/],
    ['a redirect loop', () => `${site.origin}/loop-a`, 'BAD_USER_INPUT', /loop/],
    ['a page robots.txt disallows', () => `${site.origin}/private`, 'FORBIDDEN', /robots\.txt/],
  ];

  it.each(cases)('%s is a clear error and stores nothing', async (_name, url, code, message) => {
    const result = await subgraph.call(caller, analyze, { url: url() });
    expect(result.errors?.[0]?.extensions?.['code']).toBe(code);
    expect(result.errors?.[0]?.message).toMatch(message);
    expect(JSON.stringify(result.errors)).not.toMatch(/stack|select |at .*\.ts/i);
    const listed = await subgraph.call(caller, `{ websites { edges { node { url } } } }`);
    expect(listed.data!['websites'].edges).toEqual([]);
  });
});
