// Drives the middleware the way a client meets it: a real express server on a free port, real
// HTTP, counters in the real Redis. Authentication is stood in for by a header naming the caller.
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { CallerContext } from '@gtm/caller';
import { createLogger, createRedis, type Logger, type Redis } from '@gtm/runtime';
import { createTestCaller, startRedisServer, testEnvironment, uniqueRedisPrefix } from '@gtm/testing';
import express from 'express';
import type { TierLimitTable } from './rate-limit.config.js';
import { createRateLimitMiddleware, type CreateRateLimitMiddlewareOptions } from './rate-limit.middleware.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';

let firstProcess: Redis;
let secondProcess: Redis;
const openServers: Server[] = [];

beforeAll(async () => {
  firstProcess = createRedis({ url: testEnvironment.redisUrl });
  secondProcess = createRedis({ url: testEnvironment.redisUrl });
  await Promise.all([firstProcess.connect(), secondProcess.connect()]);
});

afterEach(async () => {
  await Promise.all(openServers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

afterAll(async () => {
  await Promise.all([firstProcess.quit(), secondProcess.quit()]);
});

function limitsWithFree(free: TierLimitTable['free']): TierLimitTable {
  const generous = { perMinute: 1_000, perDay: 1_000_000, llmPerDay: 1_000 };
  return { free, pro: generous, enterprise: generous };
}

const callersByTenant = new Map<string, CallerContext>();

function freeCaller(): CallerContext {
  const caller = createTestCaller({ tier: 'free' });
  callersByTenant.set(caller.tenantId, caller);
  return caller;
}

/** A logger whose lines the test can read. */
function capturedLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ service: 'gateway', destination });
  const lines = () =>
    written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

/** A stand-in gateway: authentication by header, then the rate limit, then a GraphQL answer. */
async function startGateway(options: Omit<CreateRateLimitMiddlewareOptions, 'callerOf'>): Promise<string> {
  const app = express();
  app.use(
    '/graphql',
    (request, response, next) => {
      const caller = callersByTenant.get(request.header('x-test-tenant') ?? '');
      if (caller) response.locals['caller'] = caller;
      next();
    },
    createRateLimitMiddleware({ ...options, callerOf: (_request, response) => response.locals['caller'] as CallerContext | undefined }),
    express.json(),
    (_request, response) => {
      response.json({ data: { ok: true } });
    },
  );
  const server = createHttpServer(app);
  openServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

function postQuery(url: string, caller: CallerContext | undefined): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(caller ? { 'x-test-tenant': caller.tenantId } : {}) },
    body: JSON.stringify({ query: '{ ok }' }),
  });
}

const rateLimitHeaders = (response: Response) => ({
  status: response.status,
  limit: response.headers.get('ratelimit-limit'),
  remaining: response.headers.get('ratelimit-remaining'),
  reset: response.headers.get('ratelimit-reset'),
  retryAfter: response.headers.get('retry-after'),
});

describe('rate limit middleware', () => {
  it('tells the client its limit on every answer and refuses over the minute limit with 429', async () => {
    const limiter = createRateLimiter({
      redis: firstProcess,
      keyPrefix: uniqueRedisPrefix(),
      limits: limitsWithFree({ perMinute: 3, perDay: 100, llmPerDay: 1 }),
      now: () => Date.parse('2030-03-04T10:00:45.000Z'),
    });
    const url = await startGateway({ limiter });
    const caller = freeCaller();

    const admitted = [];
    for (let index = 0; index < 3; index += 1) admitted.push(await postQuery(url, caller));
    expect(admitted.map(rateLimitHeaders)).toEqual(
      ['2', '1', '0'].map((remaining) => ({ status: 200, limit: '3', remaining, reset: '15', retryAfter: null })),
    );
    expect(admitted[0]?.headers.get('ratelimit-policy')).toBe('3;w=60, 100;w=86400');
    expect(await admitted[0]?.json()).toEqual({ data: { ok: true } });

    // A GET query counts against the same limit.
    const refused = await fetch(`${url}?query=${encodeURIComponent('{ ok }')}`, { headers: { 'x-test-tenant': caller.tenantId } });
    expect(rateLimitHeaders(refused)).toEqual({ status: 429, limit: '3', remaining: '0', reset: '15', retryAfter: '15' });
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await refused.json()).toEqual({
      errors: [
        {
          message: 'Rate limit exceeded: the free tier allows 3 requests per minute per API key. Retry in 15 seconds.',
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 15, limit: 3, window: 'minute' },
        },
      ],
    });
  });

  it('names the daily limit and the wait until UTC midnight when the day is used up', async () => {
    const limiter = createRateLimiter({
      redis: firstProcess,
      keyPrefix: uniqueRedisPrefix(),
      limits: limitsWithFree({ perMinute: 10, perDay: 2, llmPerDay: 1 }),
      now: () => Date.parse('2030-03-04T21:30:00.000Z'),
    });
    const url = await startGateway({ limiter });
    const caller = freeCaller();

    expect((await postQuery(url, caller)).headers.get('ratelimit-remaining')).toBe('1');
    expect((await postQuery(url, caller)).status).toBe(200);
    const refused = await postQuery(url, caller);

    expect(rateLimitHeaders(refused)).toEqual({ status: 429, limit: '2', remaining: '0', reset: '9000', retryAfter: '9000' });
    expect(await refused.json()).toEqual({
      errors: [
        {
          message: 'Rate limit exceeded: the free tier allows 2 requests per day per API key. Retry in 2 hours 30 minutes (the daily limit resets at 00:00 UTC).',
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 9000, limit: 2, window: 'day' },
        },
      ],
    });
  });

  it('lets exactly the limit through when 30 HTTP requests race through two gateway processes', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const limits = limitsWithFree({ perMinute: 10, perDay: 100, llmPerDay: 1 });
    const urls = [
      await startGateway({ limiter: createRateLimiter({ redis: firstProcess, keyPrefix, limits }) }),
      await startGateway({ limiter: createRateLimiter({ redis: secondProcess, keyPrefix, limits }) }),
    ];
    const caller = freeCaller();

    const responses = await Promise.all(Array.from({ length: 30 }, (_, index) => postQuery(urls[index % 2] ?? '', caller)));
    const statuses = responses.map((response) => response.status);

    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
  });

  it('leaves requests without a caller and CORS preflights uncounted', async () => {
    const limiter = createRateLimiter({ redis: firstProcess, keyPrefix: uniqueRedisPrefix(), limits: limitsWithFree({ perMinute: 1, perDay: 1, llmPerDay: 1 }) });
    const url = await startGateway({ limiter });
    const caller = freeCaller();

    const anonymous = await postQuery(url, undefined);
    expect(rateLimitHeaders(anonymous)).toMatchObject({ status: 200, limit: null });
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { 'x-test-tenant': caller.tenantId } });
    expect(preflight.headers.get('ratelimit-limit')).toBeNull();

    expect((await postQuery(url, caller)).status).toBe(200);
    expect((await postQuery(url, caller)).status).toBe(429);
  });
});

describe('when Redis cannot answer', () => {
  it('enforces the limits per process while Redis is away, counting on from what Redis admitted, and shares them again once it is back', async () => {
    const redisServer = await startRedisServer();
    const redis = createRedis({ url: redisServer.url });
    await redis.connect();
    const { logger, lines } = capturedLogger();
    let clock = Date.parse('2030-03-04T10:00:10.000Z');
    const limiter = createRateLimiter({ redis, limits: limitsWithFree({ perMinute: 5, perDay: 100, llmPerDay: 1 }), now: () => clock });
    const url = await startGateway({ limiter, logger, now: () => clock });
    const caller = freeCaller();
    try {
      const before = [await postQuery(url, caller), await postQuery(url, caller)];
      expect(before.map(rateLimitHeaders)).toEqual(['4', '3'].map((remaining) => ({ status: 200, limit: '5', remaining, reset: '50', retryAfter: null })));

      await redisServer.stop();
      const during = [];
      for (let index = 0; index < 6; index += 1) during.push(await postQuery(url, caller));
      // Two were used this minute already: three more pass, then 429 as with Redis.
      expect(during.map((response) => response.status)).toEqual([200, 200, 200, 429, 429, 429]);
      expect(rateLimitHeaders(during[3]!)).toEqual({ status: 429, limit: '5', remaining: '0', reset: '50', retryAfter: '50' });
      expect((await during[3]!.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
      const warnings = lines().filter((line) => line['level'] === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ msg: expect.stringContaining('enforced per gateway process') });

      // The next minute starts over, locally too.
      clock += 60_000;
      expect((await postQuery(url, caller)).status).toBe(200);

      await redisServer.start();
      await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
      // A Redis that came back empty counts from zero again, for every process alike.
      const after = await postQuery(url, caller);
      expect(rateLimitHeaders(after)).toMatchObject({ status: 200, limit: '5', remaining: '4' });
      expect(lines().some((line) => line['level'] === 30 && String(line['msg']).includes('shared across gateway processes again'))).toBe(true);
    } finally {
      redis.disconnect();
      await redisServer.close();
    }
  });

  it('does not keep a request waiting on a Redis that accepts connections but never answers', async () => {
    const hangingLimiter: RateLimiter = {
      limits: limitsWithFree({ perMinute: 1, perDay: 1, llmPerDay: 1 }),
      consume: () => new Promise(() => undefined),
      consumeLlmBudget: () => new Promise(() => undefined),
      llmBudgetRemaining: () => new Promise(() => undefined),
    };
    const { logger, lines } = capturedLogger();
    const url = await startGateway({ limiter: hangingLimiter, logger, decisionTimeoutMs: 100 });
    const caller = freeCaller();

    // Decided in this process after 100 ms: the first within the limit of one, the second over it.
    expect((await postQuery(url, caller)).status).toBe(200);
    expect((await postQuery(url, caller)).status).toBe(429);
    expect(lines().filter((line) => line['level'] === 40)).toHaveLength(1);
  });
});
