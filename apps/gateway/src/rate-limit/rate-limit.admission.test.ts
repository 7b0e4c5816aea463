// The rate limit of /graphql as the gateway mounts it (createApp, real PostgreSQL and Redis),
// decided while the request is read and planned: a caller over its limit learns that and nothing
// about its request, and nothing of its request reaches a subgraph. The CRM subgraph is a stand-in
// that counts the fetches it gets.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import type { CallerContext } from '@gtm/caller';
import { createLogger, createRedis, type Redis } from '@gtm/runtime';
import { createTestCaller, createTestCallerKeys, createTestDatabase, testEnvironment, uniqueRedisPrefix, type TestDatabase } from '@gtm/testing';
import express from 'express';
import { openApiKeyRegistry, type ApiKeyRegistry } from '../api-key/api-key.registry.js';
import { createApp, type GatewayApp } from '../app.js';
import { loadConfig } from '../config.js';
import { graphqlHttpHandler } from '../graphql-http/graphql-http.handler.js';
import { requestLimits } from '../operation-limits/request-limits.middleware.js';
import { createRateLimitAdmission, rateLimitDecisionOf, useRateLimitGate } from './rate-limit.admission.js';
import { createRateLimiter, type RateLimitDecision, type RateLimiter } from './rate-limiter.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let registry: ApiKeyRegistry;
let crm: Server;
let crmFetches = 0;
let first: GatewayApp;
let second: GatewayApp;
let redis: Redis;

beforeAll(async () => {
  crm = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      crmFetches += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ data: { leads: { edges: [{ node: { id: 'lead-1' } }] } } }));
    });
  });
  await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
  testDatabase = await createTestDatabase();
  registry = await openApiKeyRegistry({ databaseUrl: testDatabase.url, logger, poolMax: 2 });
  const callerKeys = await createTestCallerKeys();
  const environment = {
    NODE_ENV: 'test',
    GATEWAY_PORT: '0',
    DATABASE_URL: testDatabase.url,
    DATABASE_POOL_MAX: '2',
    REDIS_URL: testEnvironment.redisUrl,
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    LOG_LEVEL: 'silent',
    CALLER_TOKEN_PRIVATE_KEY: callerKeys.keys.privateKeyPem,
    SECRETS_KEY: randomBytes(32).toString('base64'),
    CRM_SERVICE_URL: `http://127.0.0.1:${(crm.address() as AddressInfo).port}/graphql`,
    // Every request its own fetch, so the stand-in's count is the number of requests executed.
    SUBGRAPH_FETCH_MERGING: 'false',
    // Day limits: a test that crosses a minute boundary still sees the count it made.
    RATE_LIMIT_FREE_PER_DAY: '2',
    RATE_LIMIT_PRO_PER_DAY: '10',
    MAX_BODY_BYTES: '2048',
  };
  first = await createApp(loadConfig(environment), { logger });
  second = await createApp(loadConfig(environment), { logger });
  redis = createRedis({ url: testEnvironment.redisUrl });
  await redis.connect();
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await registry?.close();
  await testDatabase?.drop();
  await new Promise((resolve) => crm?.close(resolve));
  await redis?.quit();
});

const listLeads = '{ leads(first: 1) { edges { node { id } } } }';

interface Answer {
  status: number;
  headers: Headers;
  // `any`: the test reads whatever the gateway sent and asserts on its shape.
  body: any;
}

async function send(url: string, key: string, init: { method?: string; body?: string; search?: string; contentType?: string } = {}): Promise<Answer> {
  const response = await fetch(`${url}${init.search ?? ''}`, {
    method: init.method ?? 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': init.contentType ?? 'application/json', 'apollo-require-preflight': 'true' },
    body: init.body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const query = (document: string) => JSON.stringify({ query: document });

// What is wrong with each: the body, the document, the operation, the request's shape.
const faultyRequests: Array<[string, { method?: string; body?: string; search?: string; contentType?: string }]> = [
  ['a body that is not JSON', { body: '{"query": "{ leads' }],
  ['a body over the size limit', { body: query(`{ leads(first: 1) { edges { node { id } } } } # ${'x'.repeat(4_000)}`) }],
  ['a batch', { body: JSON.stringify([{ query: listLeads }, { query: listLeads }]) }],
  ['no query at all', { body: '{}' }],
  ['a document that does not parse', { body: query('{ leads(first: 1) { edges {') }],
  ['a field the schema does not have', { body: query('{ leads(first: 1) { edges { node { socialSecurityNumber } } } }') }],
  ['an operation over the depth limit', { body: query(`{ leads(first: 1) { edges { node { ${'company { leads(first: 1) { edges { node { '.repeat(4)}id${' } } } }'.repeat(4)} } } } }`) }],
  ['a mutation sent as GET', { method: 'GET', search: `?query=${encodeURIComponent('mutation { deleteLead(id: "x") }')}` }],
  ['a form post a page could forge', { body: 'query=%7B%20leads%20%7D', contentType: 'application/x-www-form-urlencoded' }],
  ['a valid query', { body: query(listLeads) }],
];

describe('a caller over its rate limit', () => {
  it('gets the 429 with its code and Retry-After whatever is wrong with its request, and nothing reaches a subgraph', async () => {
    const { key } = await registry.apiKeys.createKey({ tenant: 'limited', tier: 'free' });
    for (let index = 0; index < 2; index += 1) expect((await send(first.url, key, { body: query(listLeads) })).status).toBe(200);
    const fetchesBefore = crmFetches;

    for (const [what, request] of faultyRequests) {
      const answer = await send(first.url, key, request);
      expect({ what, status: answer.status, retryAfter: answer.headers.get('retry-after'), remaining: answer.headers.get('ratelimit-remaining') }).toEqual({
        what,
        status: 429,
        retryAfter: expect.stringMatching(/^[1-9]\d*$/),
        remaining: '0',
      });
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.body).toEqual({
        errors: [
          {
            message: expect.stringMatching(/^Rate limit exceeded: the free tier allows 2 requests per day per API key\. Retry in /),
            extensions: { code: 'RATE_LIMITED', retryAfterSeconds: Number(answer.headers.get('retry-after')), limit: 2, window: 'day' },
          },
        ],
      });
    }
    expect(crmFetches).toBe(fetchesBefore);
  });
});

describe('a caller within its rate limit', () => {
  it('gets the answer its request deserves, with its RateLimit headers, and each request counts once', async () => {
    const { key } = await registry.apiKeys.createKey({ tenant: 'roomy', tier: 'pro' });

    const malformed = await send(first.url, key, { body: '{"query": "{ leads' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(malformed.headers.get('ratelimit-remaining')).toBe('9');

    const unparsable = await send(first.url, key, { body: query('{ leads(first: 1) { edges {') });
    expect(unparsable.status).toBe(400);
    expect(unparsable.body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(unparsable.headers.get('ratelimit-remaining')).toBe('8');

    const answered = await send(first.url, key, { body: query(listLeads) });
    expect({ status: answered.status, body: answered.body, remaining: answered.headers.get('ratelimit-remaining'), retryAfter: answered.headers.get('retry-after') }).toEqual({
      status: 200,
      body: { data: { leads: { edges: [{ node: { id: 'lead-1' } }] } } },
      remaining: '7',
      retryAfter: null,
    });
  });

  it('lets exactly the limit through when 30 requests race through two gateway processes, and only those reach the subgraph', async () => {
    const { key } = await registry.apiKeys.createKey({ tenant: 'racing', tier: 'pro' });
    const fetchesBefore = crmFetches;

    const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => send(index % 2 === 0 ? first.url : second.url, key, { body: query(listLeads) })));

    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    expect(answers.filter((answer) => answer.status === 200).map((answer) => answer.headers.get('ratelimit-remaining')).toSorted()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(crmFetches - fetchesBefore).toBe(10);
  });
});

// The same steps as the gateway mounts them, around a one-field schema, with the Redis limiter's
// answers held back until the test lets each go: what happens while Redis has not answered yet.
interface HeldGateway {
  url: string;
  /** Operations Apollo had resolved (parsed, validated, planned) so far. */
  resolved: string[];
  /** Operations executed so far. */
  executed: number;
  /** Lets the oldest held decision through once `requests` decisions are waiting. */
  release(requests?: number): Promise<void>;
  close(): Promise<void>;
}

async function startHeldGateway(caller: CallerContext, limits: RateLimiter['limits']): Promise<HeldGateway> {
  const limiter = createRateLimiter({ redis, keyPrefix: uniqueRedisPrefix(), limits });
  const held: Array<() => void> = [];
  let heldChanged: (() => void) | undefined;
  const heldLimiter: RateLimiter = {
    ...limiter,
    consume: async (who) => {
      await new Promise<void>((resolve) => {
        held.push(resolve);
        heldChanged?.();
      });
      return limiter.consume(who);
    },
  };
  const admission = createRateLimitAdmission({ limiter: heldLimiter, callerOf: (_request, response) => response.locals['caller'] as CallerContext | undefined, decisionTimeoutMs: 60_000 });
  const state = { resolved: [] as string[], executed: 0 };
  const apollo = new ApolloServer<{ caller: CallerContext; rateLimitDecision?: Promise<RateLimitDecision> }>({
    typeDefs: 'type Query { ok: Boolean! }',
    resolvers: { Query: { ok: () => ((state.executed += 1), true) } },
    plugins: [
      { requestDidStart: async () => ({ didResolveOperation: async ({ source }) => void state.resolved.push(source ?? '') }) },
      useRateLimitGate({ decisionOf: (context) => context.rateLimitDecision, callerOf: (context) => context.caller }),
    ],
  });
  await apollo.start();
  const app = express();
  app.use(
    '/graphql',
    (_request: express.Request, response: express.Response, next: express.NextFunction) => {
      response.locals['caller'] = caller;
      next();
    },
    admission.start,
    ...requestLimits({ maximumBodyBytes: 10_000, maximumBatchLength: 1, answeredFirst: admission.admit }),
    graphqlHttpHandler(apollo, {
      context: async ({ res }) => ({ caller, rateLimitDecision: rateLimitDecisionOf(res) }),
      beforeAnswer: (_request, response) => admission.admit(response),
    }),
  );
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    get resolved() {
      return state.resolved;
    },
    get executed() {
      return state.executed;
    },
    async release(requests = 1) {
      while (held.length < requests) await new Promise<void>((resolve) => (heldChanged = resolve));
      held.shift()?.();
    },
    close: async () => {
      await apollo.stop();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Waits until `done` holds, checking after each turn of the event loop. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

const oneADay = (tier: RateLimiter['limits']['free']) => ({ free: tier, pro: tier, enterprise: tier });

describe('while Redis has not answered yet', () => {
  it('an admitted request is read, parsed and planned meanwhile, and runs as soon as Redis says yes', async () => {
    const gateway = await startHeldGateway(createTestCaller({ tier: 'free' }), oneADay({ perMinute: 10, perDay: 1, llmPerDay: 1 }));
    try {
      const answer = send(gateway.url, 'unused', { body: query('{ ok }') });
      await until(() => gateway.resolved.length === 1);
      // Resolved with the decision still held back, and not run before it.
      expect(gateway.executed).toBe(0);

      await gateway.release();
      const admitted = await answer;
      expect({ status: admitted.status, body: admitted.body, remaining: admitted.headers.get('ratelimit-remaining') }).toEqual({ status: 200, body: { data: { ok: true } }, remaining: '0' });
      expect(gateway.executed).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it('a refused request gets the 429, never its parse or body error, even when that error was ready first', async () => {
    const gateway = await startHeldGateway(createTestCaller({ tier: 'free' }), oneADay({ perMinute: 10, perDay: 1, llmPerDay: 1 }));
    try {
      const admitted = send(gateway.url, 'unused', { body: query('{ ok }') });
      await gateway.release(1);
      expect((await admitted).status).toBe(200);

      const unparsable = send(gateway.url, 'unused', { body: query('{ ok') });
      const notJson = send(gateway.url, 'unused', { body: '{"query": "{ ok' });
      const valid = send(gateway.url, 'unused', { body: query('{ ok }') });
      // The valid one is resolved while its decision is held; the other two have their errors ready.
      await until(() => gateway.resolved.length === 2);
      for (let index = 0; index < 3; index += 1) await gateway.release(3 - index);

      const answers = await Promise.all([unparsable, notJson, valid]);
      expect(answers.map((answer) => [answer.status, answer.body.errors[0].extensions.code, answer.headers.get('retry-after') !== null])).toEqual([
        [429, 'RATE_LIMITED', true],
        [429, 'RATE_LIMITED', true],
        [429, 'RATE_LIMITED', true],
      ]);
      expect(gateway.executed).toBe(1);
    } finally {
      await gateway.close();
    }
  });
});
