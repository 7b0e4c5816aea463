import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lookup } from 'node:dns/promises';
import { fileURLToPath } from 'node:url';
import { llmUsageStreamKey } from '@gtm/runtime';
import {
  createTestCaller,
  startFakeFirecrawlServer,
  startFakeOpenAiServer,
  startFixtureSite,
  startSubgraphUnderTest,
  type FakeFirecrawlServer,
  type FakeLlmServer,
  type FixtureSite,
  type SubgraphUnderTest,
} from '@gtm/testing';
import { createApp, type ContentApp } from '../app.js';
import { loadConfig } from '../config.js';

interface Capture {
  url: string;
  metadata: Record<string, unknown>;
  html: string;
  markdown: string;
}

const captureNames = ['blossomer.io', 'panfactum.com', 'intryc.com'] as const;
const captures = Object.fromEntries(
  captureNames.map((name) => [name, JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../fixtures/websites/${name}.json`, import.meta.url)), 'utf8')) as Capture]),
) as Record<(typeof captureNames)[number], Capture>;

const analyze = `mutation ($url: String!) {
  analyzeWebsite(url: $url) {
    url title description summary summaryProvider source
    pages { url kind wordCount }
    quality { level score gaps }
    technologies { name }
  }
}`;
const search = `query ($url: String!, $query: String!) { website(url: $url) { search(query: $query, limit: 3) { text heading } } }`;

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('the real captures, fetched directly', () => {
  // The three sites served from one local server under their own names, as if they were live.
  let server: Server;
  let port: number;
  let subgraph: SubgraphUnderTest<ContentApp>;
  const caller = createTestCaller();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const host = (request.headers.host ?? '').split(':')[0] as keyof typeof captures;
      const capture = captures[host];
      if (!capture || new URL(request.url ?? '/', 'http://x').pathname !== '/') return void response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(capture.html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    subgraph = await startSubgraphUnderTest((environment, onQuery) =>
      createApp(loadConfig({ ...environment, CONTENT_FETCH_ALLOWLIST: captureNames.map((name) => `${name}:${port}`).join(',') }), {
        onQuery,
        crawlSleep: async () => undefined,
        resolveHost: async (hostname) => (hostname in captures ? [{ address: '127.0.0.1', family: 4 }] : lookup(hostname, { all: true })),
      }),
    );
  });

  afterAll(async () => {
    await subgraph?.close();
    if (server) await closeServer(server);
  });

  it('blossomer.io: an outbound service for early-stage B2B founders, built with Framer', async () => {
    const result = await subgraph.call(caller, analyze, { url: `http://blossomer.io:${port}` });
    expect(result.errors).toBeUndefined();
    const website = result.data!['analyzeWebsite'];
    // The capture kept only the body, so the page's own headline stands in for the missing <title>.
    expect(website.title).toBe('Your Expertly Built, Fully Managed Outbound System');
    expect(website.summary).toMatch(/outbound|founders|customers/i);
    expect(website.technologies.map((technology: any) => technology.name)).toContain('Framer');
    expect(website.pages[0]).toMatchObject({ kind: 'HOME' });
    expect(website.pages[0].wordCount).toBeGreaterThan(30);
    const found = await subgraph.call(caller, search, { url: `http://blossomer.io:${port}`, query: 'hiring a sales team' });
    expect(found.data!['website'].search[0].text).toMatch(/sales team|SDR/i);
  });

  it('panfactum.com: a platform for AWS with customer quotes as proof', async () => {
    const result = await subgraph.call(caller, analyze, { url: `http://panfactum.com:${port}` });
    expect(result.errors).toBeUndefined();
    const website = result.data!['analyzeWebsite'];
    expect(website.technologies.map((technology: any) => technology.name)).toContain('Astro');
    const found = await subgraph.call(caller, search, { url: `http://panfactum.com:${port}`, query: 'AWS database cost' });
    expect(found.data!['website'].search.map((hit: any) => hit.text).join(' ')).toMatch(/AWS/);
  });

  it('intryc.com: support QA, its 900 KB page read and scored', async () => {
    const result = await subgraph.call(caller, analyze, { url: `http://intryc.com:${port}` });
    expect(result.errors).toBeUndefined();
    const website = result.data!['analyzeWebsite'];
    // The capture has no <head> (the crawler kept only the body): no title, but the page reads.
    expect(website.pages[0].wordCount).toBeGreaterThan(300);
    expect(website.technologies.map((technology: any) => technology.name)).toContain('Webflow');
    const found = await subgraph.call(caller, search, { url: `http://intryc.com:${port}`, query: 'tickets coverage quality' });
    expect(found.data!['website'].search[0].text).toMatch(/ticket/i);
    // Rich enough without pricing, which many B2B sites never publish; the gap still says so.
    expect(website.quality).toMatchObject({ level: 'SUFFICIENT', gaps: [expect.stringMatching(/^pricing: no prices/)] });
    expect(website.quality.score).toBeLessThan(0.9);
  });
});

describe('Firecrawl', () => {
  let firecrawl: FakeFirecrawlServer;
  let subgraph: SubgraphUnderTest<ContentApp>;
  const caller = createTestCaller();

  beforeAll(async () => {
    firecrawl = await startFakeFirecrawlServer({ pages: Object.fromEntries(captureNames.map((name) => [captures[name].url, { html: captures[name].html, metadata: captures[name].metadata }])) });
    subgraph = await startSubgraphUnderTest((environment, onQuery) =>
      createApp(loadConfig({ ...environment, FIRECRAWL_API_KEY: firecrawl.apiKey, FIRECRAWL_API_URL: firecrawl.apiUrl, CONTENT_MAX_PAGES: '3' }), { onQuery }),
    );
  });

  afterAll(async () => {
    await subgraph?.close();
    await firecrawl?.close();
  });

  it('reads pages through its scrape API when FIRECRAWL_API_KEY is set', async () => {
    const result = await subgraph.call(caller, analyze, { url: 'https://blossomer.io' });
    expect(result.errors).toBeUndefined();
    const website = result.data!['analyzeWebsite'];
    // Firecrawl's page metadata supplies the <title> and description its HTML no longer has.
    expect(website).toMatchObject({ url: 'https://blossomer.io', source: 'FIRECRAWL', title: expect.stringMatching(/^Blossomer \| Your Startup's Outbound Engine/) });
    expect(website.description).toMatch(/early-stage B2B founders land their first 1000 customers/);
    expect(firecrawl.requests[0]).toEqual({ url: 'https://blossomer.io', formats: ['rawHtml'] });
    // The home page's links were planned; pages the fake does not know were skipped, not fatal.
    expect(firecrawl.requests.length).toBeGreaterThan(1);
    expect(firecrawl.requests.length).toBeLessThanOrEqual(3);
  });

  it('still refuses addresses that are private by their spelling, without asking Firecrawl', async () => {
    const before = firecrawl.requests.length;
    for (const url of ['http://127.0.0.1:8080', 'http://metadata.internal/', 'http://169.254.169.254/']) {
      const result = await subgraph.call(caller, analyze, { url });
      expect(result.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    }
    expect(firecrawl.requests.length).toBe(before);
  });

  it('reports a rejected Firecrawl key as the upstream being unavailable, without the key', async () => {
    await using wrongKey = await startSubgraphUnderTest((environment, onQuery) =>
      createApp(loadConfig({ ...environment, FIRECRAWL_API_KEY: 'fc-wrong', FIRECRAWL_API_URL: firecrawl.apiUrl }), { onQuery }),
    );
    const result = await wrongKey.call(caller, analyze, { url: 'https://panfactum.com' });
    expect(result.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(result.errors?.[0]?.message).toMatch(/Firecrawl/);
    expect(JSON.stringify(result.errors)).not.toContain('fc-wrong');
  });
});

describe('a model-written summary', () => {
  let site: FixtureSite;
  let openai: FakeLlmServer;
  let subgraph: SubgraphUnderTest<ContentApp>;

  beforeAll(async () => {
    site = await startFixtureSite(fileURLToPath(new URL('../../fixtures/northwind-site', import.meta.url)));
    openai = await startFakeOpenAiServer({ respond: { json: { summary: 'Northwind Ledger automates the month-end close for mid-market finance teams.' } } });
    subgraph = await startSubgraphUnderTest((environment, onQuery) =>
      createApp(
        loadConfig({ ...environment, CONTENT_FETCH_ALLOWLIST: site.host, LLM_PROVIDERS: 'openai,offline', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, LLM_MAX_RETRIES: '0', LLM_CACHE_TTL_SECONDS: '0' }),
        { onQuery, crawlSleep: async () => undefined },
      ),
    );
  });

  afterAll(async () => {
    await subgraph?.close();
    await Promise.all([site?.close(), openai?.close()]);
  });

  it('comes from the configured provider, with the site’s passages in the prompt, and is metered for the caller', async () => {
    const caller = createTestCaller();
    const result = await subgraph.call(caller, analyze, { url: site.origin });
    expect(result.errors).toBeUndefined();
    expect(result.data!['analyzeWebsite']).toMatchObject({ summary: 'Northwind Ledger automates the month-end close for mid-market finance teams.', summaryProvider: 'openai' });
    expect(openai.requests.at(-1)!.prompt).toContain('$49 per user per month');
    const entries = await subgraph.app.redis.xrevrange(llmUsageStreamKey, '+', '-', 'COUNT', 50);
    const events = entries.map(([, fields]) => JSON.parse(fields[1]!));
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ tenantId: caller.tenantId, service: 'content-service', task: 'content.website-summary', provider: 'openai' })]));
  });

  it('falls back to the extractive summary when the model fails, and the analysis still succeeds', async () => {
    openai.respondWith({ status: 500 });
    const result = await subgraph.call(createTestCaller(), analyze, { url: site.origin });
    expect(result.errors).toBeUndefined();
    expect(result.data!['analyzeWebsite'].summaryProvider).toBe('offline');
    expect(result.data!['analyzeWebsite'].summary).toMatch(/Northwind Ledger/);
  });
});
