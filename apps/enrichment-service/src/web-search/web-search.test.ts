// The search adapters against local servers that speak Serper's and Brave's wire formats: what is
// sent, what is read back, and how rate limits, refusals and outages are handled.
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@gtm/runtime';
import { startFakeBraveSearchServer, startFakeSerperServer, type SearchDocument } from '@gtm/testing';
import { createBraveSearch } from './brave.search.js';
import { createSerperSearch } from './serper.search.js';
import { createWebSearch } from './web-search.js';
import { createWebSearchFromConfig, searchProviderOrder, webSearchEnvironmentSchema } from './web-search.config.js';
import { WebSearchError } from './web-search.errors.js';

const documents: SearchDocument[] = [
  { url: 'https://www.yelp.com/biz/broadway-auto-brokers-alachua', title: 'Broadway Auto Brokers - Alachua, FL - Yelp', snippet: 'Used car dealer in Alachua. 3 reviews.' },
  { url: 'https://broadwayautobrokers.com/', title: 'Broadway Auto Brokers | Used Cars in Alachua, FL', snippet: 'Quality used cars at <strong>Broadway Auto Brokers</strong>, 12559 NW US Highway 441.' },
  { url: 'https://example.org/recipes', title: 'Banana bread', snippet: 'A recipe.' },
];
const quiet = createLogger({ service: 'test', level: 'silent' });
const fast = { retryInitialDelayMs: 10, retryMaxDelayMs: 20 };
const parse = (environment: Record<string, string>) => webSearchEnvironmentSchema.parse(environment);

describe('Serper', () => {
  it('posts the query with the key and reads the organic results', async () => {
    await using server = await startFakeSerperServer({ documents, apiKey: 'serper-key' });
    const serper = createSerperSearch({ apiKey: 'serper-key', baseUrl: server.url, costPerQueryUsd: 0.0003 });
    const answer = await serper.search({ query: 'Broadway Auto Brokers Alachua FL', count: 5 });
    await serper.close();

    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/search', apiKey: 'serper-key', query: 'Broadway Auto Brokers Alachua FL', count: 5, country: 'us' });
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
    expect(answer).toEqual({
      provider: 'serper',
      query: 'Broadway Auto Brokers Alachua FL',
      costUsd: 0.0003,
      results: [
        { url: 'https://www.yelp.com/biz/broadway-auto-brokers-alachua', title: 'Broadway Auto Brokers - Alachua, FL - Yelp', snippet: 'Used car dealer in Alachua. 3 reviews.', position: 1 },
        { url: 'https://broadwayautobrokers.com/', title: 'Broadway Auto Brokers | Used Cars in Alachua, FL', snippet: 'Quality used cars at Broadway Auto Brokers, 12559 NW US Highway 441.', position: 2 },
      ],
    });
  });

  it('refuses a wrong key at once, without retrying, as unauthorized', async () => {
    await using server = await startFakeSerperServer({ documents, apiKey: 'right' });
    const serper = createSerperSearch({ apiKey: 'wrong', baseUrl: server.url, ...fast });
    const failure = await serper.search({ query: 'Broadway Auto Brokers' }).catch((error: unknown) => error);
    await serper.close();
    expect(failure).toBeInstanceOf(WebSearchError);
    expect(failure).toMatchObject({ code: 'SEARCH_UNAUTHORIZED', isRetryable: false, provider: 'serper' });
    expect((failure as Error).message).toMatch(/serper refused the API key \(HTTP 403\): Unauthorized\./);
    expect((failure as Error).message).not.toContain('wrong');
    expect(server.requests).toHaveLength(1);
  });

  it('waits as long as a 429 asks before asking again', async () => {
    await using server = await startFakeSerperServer({ documents });
    server.enqueue({ status: 429, retryAfterSeconds: 1 });
    const serper = createSerperSearch({ apiKey: 'key', baseUrl: server.url, ...fast });
    const answer = await serper.search({ query: 'Broadway Auto Brokers' });
    await serper.close();
    expect(answer.results).toHaveLength(2);
    expect(server.requests).toHaveLength(2);
    // The retry came no sooner than the provider asked (a lower bound: load only makes it later).
    expect(server.requests[1]!.receivedAt - server.requests[0]!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('retries a 500 and a dropped connection, then gives up with a retryable error', async () => {
    await using server = await startFakeSerperServer({ documents });
    server.enqueue({ status: 500 }, { disconnect: true });
    const serper = createSerperSearch({ apiKey: 'key', baseUrl: server.url, maxRetries: 2, ...fast });
    expect((await serper.search({ query: 'Broadway Auto Brokers' })).results).toHaveLength(2);
    server.enqueue({ status: 502 }, { status: 503 }, { status: 500 });
    const failure = await serper.search({ query: 'Broadway Auto Brokers' }).catch((error: unknown) => error);
    await serper.close();
    expect(failure).toMatchObject({ code: 'SEARCH_PROVIDER_ERROR', isRetryable: true });
    expect(server.requests).toHaveLength(6);
  });

  it('times out a provider that does not answer', async () => {
    await using server = await startFakeSerperServer({ documents, delayMs: 2_000 });
    const serper = createSerperSearch({ apiKey: 'key', baseUrl: server.url, timeoutMs: 200, maxRetries: 0 });
    const failure = await serper.search({ query: 'Broadway Auto Brokers' }).catch((error: unknown) => error);
    await serper.close();
    expect(failure).toMatchObject({ code: 'SEARCH_TIMEOUT', isRetryable: true });
  });

  it('stops asking a provider that keeps failing (circuit open), then tries it again later', async () => {
    await using server = await startFakeSerperServer({ documents, respond: () => ({ status: 500 }) });
    const serper = createSerperSearch({ apiKey: 'key', baseUrl: server.url, maxRetries: 0, breakerFailures: 3, breakerHalfOpenAfterMs: 300 });
    for (let attempt = 0; attempt < 3; attempt += 1) await serper.search({ query: 'Broadway' }).catch(() => undefined);
    const open = await serper.search({ query: 'Broadway Auto Brokers' }).catch((error: unknown) => error);
    expect(open).toMatchObject({ code: 'SEARCH_CIRCUIT_OPEN', isRetryable: true });
    expect(serper.circuit()).toBe('open');
    expect(server.requests).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await serper.search({ query: 'Broadway' }).catch(() => undefined);
    expect(server.requests).toHaveLength(4);
    await serper.close();
  });
});

describe('Brave Search', () => {
  it('gets the query with the subscription token and reads the web results as plain text', async () => {
    await using server = await startFakeBraveSearchServer({ documents, apiKey: 'brave-key' });
    const brave = createBraveSearch({ apiKey: 'brave-key', baseUrl: server.url });
    const answer = await brave.search({ query: 'Broadway Auto Brokers Alachua', count: 3 });
    await brave.close();
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/res/v1/web/search', apiKey: 'brave-key', query: 'Broadway Auto Brokers Alachua', count: 3, country: 'us' });
    expect(answer.provider).toBe('brave');
    expect(answer.costUsd).toBe(0.005);
    expect(answer.results.map((result) => result.url)).toEqual(['https://www.yelp.com/biz/broadway-auto-brokers-alachua', 'https://broadwayautobrokers.com/']);
    expect(answer.results[1]!.snippet).toBe('Quality used cars at Broadway Auto Brokers, 12559 NW US Highway 441.');
  });

  it('reads an invalid subscription token (422) as unauthorized', async () => {
    await using server = await startFakeBraveSearchServer({ documents, apiKey: 'right' });
    const brave = createBraveSearch({ apiKey: 'wrong', baseUrl: server.url, ...fast });
    const failure = await brave.search({ query: 'Broadway' }).catch((error: unknown) => error);
    await brave.close();
    expect(failure).toMatchObject({ code: 'SEARCH_UNAUTHORIZED', isRetryable: false, provider: 'brave' });
    expect((failure as Error).message).toMatch(/SUBSCRIPTION_TOKEN_INVALID/);
    expect(server.requests).toHaveLength(1);
  });

  it('waits for the rate-limit window Brave names in X-RateLimit-Reset', async () => {
    await using server = await startFakeBraveSearchServer({ documents });
    server.enqueue({ status: 429, retryAfterSeconds: 1 });
    const brave = createBraveSearch({ apiKey: 'key', baseUrl: server.url, ...fast });
    expect((await brave.search({ query: 'Broadway Auto Brokers' })).results).toHaveLength(2);
    await brave.close();
    expect(server.requests[1]!.receivedAt - server.requests[0]!.receivedAt).toBeGreaterThanOrEqual(950);
  });
});

describe('failover', () => {
  it('asks the next provider when one is down or rate limited for longer than is worth waiting', async () => {
    await using serperServer = await startFakeSerperServer({ documents });
    await using braveServer = await startFakeBraveSearchServer({ documents });
    const search = createWebSearch([
      createSerperSearch({ apiKey: 'key', baseUrl: serperServer.url, maxRetryAfterMs: 2_000, ...fast }),
      createBraveSearch({ apiKey: 'key', baseUrl: braveServer.url, ...fast }),
    ]);
    serperServer.enqueue({ status: 429, retryAfterSeconds: 3_600 });
    const answer = await search.search({ query: 'Broadway Auto Brokers' });
    expect(answer.provider).toBe('brave');
    expect(serperServer.requests).toHaveLength(1);

    expect((await search.search({ query: 'Broadway Auto Brokers' })).provider).toBe('serper');
    await search.close();
  });

  it('fails with every provider’s reason when none answers', async () => {
    await using serperServer = await startFakeSerperServer({ documents, apiKey: 'right' });
    await using braveServer = await startFakeBraveSearchServer({ documents, respond: () => ({ status: 503 }) });
    const search = createWebSearch([
      createSerperSearch({ apiKey: 'wrong', baseUrl: serperServer.url, ...fast }),
      createBraveSearch({ apiKey: 'key', baseUrl: braveServer.url, maxRetries: 0 }),
    ]);
    const failure = await search.search({ query: 'Broadway' }).catch((error: unknown) => error);
    await search.close();
    expect(failure).toMatchObject({ code: 'SEARCH_UNAVAILABLE', isRetryable: true });
    expect((failure as Error).message).toMatch(/serper refused the API key.*brave answered HTTP 503/);
  });

  it('says what to configure when there is no provider', async () => {
    const failure = await createWebSearch([]).search({ query: 'Broadway' }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SEARCH_UNAVAILABLE', isRetryable: false });
    expect((failure as Error).message).toMatch(/SERPER_API_KEY/);
  });
});

describe('configuration', () => {
  it('takes SEARCH_PROVIDERS in its order, else every provider whose key is set', () => {
    expect(searchProviderOrder(parse({}))).toEqual([]);
    expect(searchProviderOrder(parse({ BRAVE_SEARCH_API_KEY: 'b' }))).toEqual(['brave']);
    expect(searchProviderOrder(parse({ BRAVE_SEARCH_API_KEY: 'b', SERPER_API_KEY: 's' }))).toEqual(['serper', 'brave']);
    expect(searchProviderOrder(parse({ SEARCH_PROVIDERS: ' Brave, serper', SERPER_API_KEY: 's' }))).toEqual(['brave', 'serper']);
    expect(webSearchEnvironmentSchema.safeParse({ SEARCH_PROVIDERS: 'google' }).success).toBe(false);
    expect(webSearchEnvironmentSchema.safeParse({ SERPER_BASE_URL: 'ftp://x' }).success).toBe(false);
  });

  it('skips a provider named without its key', async () => {
    const search = createWebSearchFromConfig(webSearchEnvironmentSchema.parse({ SEARCH_PROVIDERS: 'serper,brave', BRAVE_SEARCH_API_KEY: 'b' }), quiet);
    expect(search.providers.map((provider) => provider.name)).toEqual(['brave']);
    expect(search.costPerQueryUsd).toBe(0.005);
    await search.close();
  });
});
