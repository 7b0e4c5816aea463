// Subscriptions at the gateway, against two real gateway processes' worth of apps (each its own
// HTTP server, Redis connections and WebSocket server) sharing PostgreSQL and Redis. Jobs are
// played by writing their progress to Redis the way a worker does.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createJobProgressStore, createThrottledProgress, JobStatus, type JobProgressSnapshot, type JobProgressStore } from '@gtm/jobs';
import { testJobProgressSnapshot } from '@gtm/jobs/testing';
import { createLogger, createRedis, type Redis } from '@gtm/runtime';
import {
  createGraphQLWebSocketClient,
  createTestCallerKeys,
  createTestDatabase,
  openRawGraphQLWebSocket,
  postGraphQL,
  subscribeForTest,
  testEnvironment,
  uniqueRedisPrefix,
  type TestDatabase,
} from '@gtm/testing';
import type { Client } from 'graphql-ws';
import { openApiKeyRegistry, type ApiKeyRegistry } from '../api-key/api-key.registry.js';
import { Tenant } from '../api-key/tenant.entity.js';
import { createApp, type GatewayApp } from '../app.js';
import { loadConfig } from '../config.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const redisKeyPrefix = uniqueRedisPrefix();
let testDatabase: TestDatabase;
let registry: ApiKeyRegistry;
let environment: Record<string, string>;
let first: GatewayApp;
let second: GatewayApp;
let redis: Redis;
let store: JobProgressStore;
const keys: Record<'acme' | 'globex' | 'writeOnly' | 'limited', string> = { acme: '', globex: '', writeOnly: '', limited: '' };
const tenants: Record<'acme' | 'globex', string> = { acme: '', globex: '' };
const clients: Client[] = [];

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  registry = await openApiKeyRegistry({ databaseUrl: testDatabase.url, logger, poolMax: 2 });
  keys.acme = (await registry.apiKeys.createKey({ tenant: 'acme', tier: 'pro', scopes: ['read', 'write'] })).key;
  keys.globex = (await registry.apiKeys.createKey({ tenant: 'globex', tier: 'pro', scopes: ['read'] })).key;
  keys.writeOnly = (await registry.apiKeys.createKey({ tenant: 'acme', tier: 'pro', scopes: ['write'] })).key;
  keys.limited = (await registry.apiKeys.createKey({ tenant: 'initech', tier: 'free' })).key;
  for (const slug of ['acme', 'globex'] as const) tenants[slug] = (await registry.database.orm.em.fork().findOneOrFail(Tenant, { slug })).id;
  const callerKeys = await createTestCallerKeys();
  environment = {
    NODE_ENV: 'test',
    GATEWAY_PORT: '0',
    DATABASE_URL: testDatabase.url,
    DATABASE_POOL_MAX: '2',
    REDIS_URL: testEnvironment.redisUrl,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    LOG_LEVEL: 'silent',
    CALLER_TOKEN_PRIVATE_KEY: callerKeys.keys.privateKeyPem,
    SECRETS_KEY: randomBytes(32).toString('base64'),
    MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
    MAX_CONNECTIONS_PER_KEY: '4',
    RATE_LIMIT_FREE_PER_MINUTE: '3',
    WEBSOCKET_KEEP_ALIVE_MS: '1000',
    SHUTDOWN_GRACE_MS: '2000',
  };
  first = await createApp(loadConfig(environment), { logger });
  second = await createApp(loadConfig(environment), { logger });
  redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: redisKeyPrefix });
  await redis.connect();
  store = createJobProgressStore({ redis });
});

afterAll(async () => {
  for (const created of clients) await created.dispose();
  await first?.close();
  await second?.close();
  redis?.disconnect();
  await registry?.close();
  await testDatabase?.drop();
});

function client(gateway: GatewayApp, key: string, options: { lazy?: boolean } = {}): Client {
  const created = createGraphQLWebSocketClient(gateway.url, { authorization: `Bearer ${key}` }, options);
  clients.push(created);
  return created;
}

function snapshot(overrides: Partial<JobProgressSnapshot> = {}): JobProgressSnapshot {
  return testJobProgressSnapshot({ tenantId: tenants.acme, kind: 'enrichment', ...overrides });
}

const progressSubscription = `subscription Progress($jobId: ID!) { jobProgress(jobId: $jobId) { jobId kind status total completed failed percent message updatedAt } }`;
const progressOf = (result: { data?: Record<string, any> | null }) => result.data?.['jobProgress'];

describe('following a job', () => {
  it('sends the current snapshot first, then each change, and completes after a terminal status', async () => {
    const job = snapshot({ completed: 2, failed: 1, message: 'Started.' });
    await store.write(job);
    const subscription = subscribeForTest(client(first, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId } });
    const [initial] = await subscription.received(1);
    expect(progressOf(initial!)).toEqual({ jobId: job.jobId, kind: 'enrichment', status: 'RUNNING', total: 10, completed: 2, failed: 1, percent: 30, message: 'Started.', updatedAt: job.updatedAt });

    await store.write({ ...job, completed: 6, message: null });
    await subscription.received(2);
    await store.write({ ...job, status: JobStatus.SUCCEEDED, completed: 9, failed: 1, message: null });
    expect(await subscription.ended).toEqual({ completed: true });
    expect(subscription.results.map((result) => [progressOf(result).status, progressOf(result).completed, progressOf(result).percent])).toEqual([
      ['RUNNING', 2, 30],
      ['RUNNING', 6, 70],
      ['SUCCEEDED', 9, 100],
    ]);
    expect(subscription.results.every((result) => result.errors === undefined)).toBe(true);
  });

  it('sends a finished job’s last snapshot and completes at once', async () => {
    const job = snapshot({ status: JobStatus.CANCELLED, completed: 4, message: 'Cancelled.' });
    await store.write(job);
    const subscription = subscribeForTest(client(first, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId } });
    expect(await subscription.ended).toEqual({ completed: true });
    expect(subscription.results.map(progressOf)).toMatchObject([{ status: 'CANCELLED', completed: 4, message: 'Cancelled.' }]);
  });

  it('serves one job’s events to subscribers on two gateway processes', async () => {
    const job = snapshot();
    await store.write(job);
    const onFirst = subscribeForTest(client(first, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId } });
    const onSecond = subscribeForTest(client(second, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId } });
    await Promise.all([onFirst.received(1), onSecond.received(1)]);
    await store.write({ ...job, completed: 5 });
    await Promise.all([onFirst.received(2), onSecond.received(2)]);
    await store.write({ ...job, status: JobStatus.FAILED, completed: 5, message: 'Failed after 5 attempts; items already processed are kept.' });
    await Promise.all([onFirst.ended, onSecond.ended]);
    const seen = (subscription: typeof onFirst) => subscription.results.map((result) => `${progressOf(result).status}:${progressOf(result).completed}`);
    expect(seen(onFirst)).toEqual(['RUNNING:0', 'RUNNING:5', 'FAILED:5']);
    expect(seen(onSecond)).toEqual(seen(onFirst));
  });

  it('gives each subscriber of a job its own selection and variables', async () => {
    const job = snapshot({ completed: 4 });
    await store.write(job);
    const socket = client(first, keys.acme);
    const narrow = subscribeForTest(socket, { query: `subscription ($jobId: ID!) { jobProgress(jobId: $jobId) { completed } }`, variables: { jobId: job.jobId } });
    const aliased = subscribeForTest(socket, { query: `subscription ($jobId: ID!) { progress: jobProgress(jobId: $jobId) { done: completed status } }`, variables: { jobId: job.jobId } });
    await Promise.all([narrow.received(1), aliased.received(1)]);
    await store.write({ ...job, status: JobStatus.SUCCEEDED, completed: 10 });
    await Promise.all([narrow.ended, aliased.ended]);
    expect(narrow.results).toEqual([{ data: { jobProgress: { completed: 4 } } }, { data: { jobProgress: { completed: 10 } } }]);
    expect(aliased.results).toEqual([{ data: { progress: { done: 4, status: 'RUNNING' } } }, { data: { progress: { done: 10, status: 'SUCCEEDED' } } }]);
  });

  it('follows a job selected through a fragment on Subscription', async () => {
    const job = snapshot({ status: JobStatus.SUCCEEDED, completed: 10 });
    await store.write(job);
    const subscription = subscribeForTest(client(first, keys.acme), {
      query: `subscription Follow($jobId: ID!) { ...Progress } fragment Progress on Subscription { jobProgress(jobId: $jobId) { ... on JobProgress { status } completed } }`,
      variables: { jobId: job.jobId },
    });
    expect(await subscription.ended).toEqual({ completed: true });
    expect(subscription.results).toEqual([{ data: { jobProgress: { status: 'SUCCEEDED', completed: 10 } } }]);
  });

  it('answers a job that does not exist and another tenant’s job with the same NOT_FOUND', async () => {
    const globexJob = snapshot({ tenantId: tenants.globex });
    await store.write(globexJob);
    const unknownJobId = randomUUID();
    const acme = client(first, keys.acme);
    const unknown = subscribeForTest(acme, { query: progressSubscription, variables: { jobId: unknownJobId } });
    const foreign = subscribeForTest(acme, { query: progressSubscription, variables: { jobId: globexJob.jobId } });
    const [unknownEnd, foreignEnd] = await Promise.all([unknown.ended, foreign.ended]);
    expect(unknownEnd.error).toEqual([{ message: `Job ${unknownJobId} was not found.`, extensions: { code: 'NOT_FOUND' } }]);
    expect(foreignEnd.error).toEqual([{ message: `Job ${globexJob.jobId} was not found.`, extensions: { code: 'NOT_FOUND' } }]);
    expect(foreign.results).toEqual([]);

    // The owner sees it; and the query field hides it from others the same way.
    const owner = subscribeForTest(client(first, keys.globex), { query: progressSubscription, variables: { jobId: globexJob.jobId } });
    expect(progressOf((await owner.received(1))[0]!)).toMatchObject({ jobId: globexJob.jobId });
    owner.stop();
    const query = `query ($jobId: ID!) { jobProgress(jobId: $jobId) { status } }`;
    expect((await postGraphQL(first.url, { query, variables: { jobId: globexJob.jobId } }, { authorization: `Bearer ${keys.acme}` })).data).toEqual({ jobProgress: null });
    expect((await postGraphQL(first.url, { query, variables: { jobId: globexJob.jobId } }, { authorization: `Bearer ${keys.globex}` })).data).toEqual({ jobProgress: { status: 'RUNNING' } });
  });

  it('tells a client that posts a subscription over HTTP to use the WebSocket', async () => {
    const job = snapshot();
    await store.write(job);
    const posted = await postGraphQL(first.url, { query: progressSubscription, variables: { jobId: job.jobId } }, { authorization: `Bearer ${keys.acme}` });
    expect(posted.status).toBe(400);
    expect(posted.errors?.[0]).toMatchObject({ message: expect.stringContaining('served over WebSocket at /graphql'), extensions: { code: 'BAD_REQUEST' } });
  });

  it('runs queries over the socket as well, and refuses what does not validate', async () => {
    const job = snapshot({ completed: 3 });
    await store.write(job);
    const socket = client(first, keys.acme);
    const query = subscribeForTest(socket, { query: `query ($jobId: ID!) { jobProgress(jobId: $jobId) { completed percent } }`, variables: { jobId: job.jobId } });
    expect(await query.ended).toEqual({ completed: true });
    expect(query.results).toEqual([{ data: { jobProgress: { completed: 3, percent: 30 } } }]);
    const invalid = subscribeForTest(socket, { query: `subscription { jobProgress(jobId: "x") { nope } }` });
    expect((await invalid.ended).error).toMatchObject([{ message: expect.stringContaining('nope'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
    const unparsable = subscribeForTest(socket, { query: `subscription {` });
    expect((await unparsable.ended).error).toMatchObject([{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }]);
  });
});

describe('the schema and the records', () => {
  it('shows the subscription in introspection, as GraphiQL reads it', async () => {
    const introspection = await postGraphQL(
      first.url,
      { query: `{ __schema { subscriptionType { fields { name description args { name type { kind ofType { name } } } type { kind ofType { name } } } } } }` },
      { authorization: `Bearer ${keys.acme}` },
    );
    expect(introspection.data!['__schema'].subscriptionType.fields).toEqual([
      {
        name: 'conversationEvents',
        description: expect.stringContaining('Live conversation events over WebSocket'),
        args: [{ name: 'conversationId', type: { kind: 'SCALAR', ofType: null } }],
        type: { kind: 'NON_NULL', ofType: { name: 'ConversationEvent' } },
      },
      {
        name: 'jobProgress',
        description: expect.stringContaining('the current snapshot first, then each change'),
        args: [{ name: 'jobId', type: { kind: 'NON_NULL', ofType: { name: 'ID' } } }],
        type: { kind: 'NON_NULL', ofType: { name: 'JobProgress' } },
      },
    ]);
  });

  it('records each subscription in the tenant’s usage', async () => {
    const job = snapshot({ status: JobStatus.SUCCEEDED, completed: 10 });
    await store.write(job);
    const subscription = subscribeForTest(client(first, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId }, operationName: 'Progress' });
    await subscription.ended;
    const usage = await postGraphQL(
      first.url,
      { query: `query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { operations { operationName operationType requests } } }`, variables: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() } },
      { authorization: `Bearer ${keys.acme}` },
    );
    expect(usage.data!['usage'].operations).toContainEqual({ operationName: 'Progress', operationType: 'subscription', requests: expect.any(Number) });
  });
});

describe('authentication and limits', () => {
  it('closes a connection without a valid API key with 4401', async () => {
    for (const payload of [{}, { authorization: 'Bearer gtm_notakey_atall' }, { apiKey: 'nope' }]) {
      const raw = await openRawGraphQLWebSocket(first.url);
      raw.send({ type: 'connection_init', payload });
      const closed = await raw.closed;
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/^Unauthenticated: send connection_init/);
    }
    const byApiKey = await openRawGraphQLWebSocket(first.url);
    byApiKey.send({ type: 'connection_init', payload: { apiKey: keys.acme } });
    await byApiKey.message((message) => message['type'] === 'connection_ack');
    byApiKey.socket.close(1000);
  });

  it('closes the connections of a key revoked while they are open, subscriptions and all, without the client sending anything', async () => {
    const { key, apiKey } = await registry.apiKeys.createKey({ tenant: 'acme', tier: 'pro', scopes: ['read'] });
    const job = snapshot();
    await store.write(job);
    const revokedClient = client(first, key);
    const subscription = subscribeForTest(revokedClient, { query: progressSubscription, variables: { jobId: job.jobId } });
    await subscription.received(1);
    const raw = await openRawGraphQLWebSocket(second.url);
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
    await raw.message((message) => message['type'] === 'connection_ack');
    const bystander = subscribeForTest(client(first, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId } });
    await bystander.received(1);

    await registry.apiKeys.revokeKey(apiKey.id);
    // Within the key cache's lifetime (API_KEY_CACHE_TTL_MS, 4 s here), on both gateway processes.
    const ended = await subscription.ended;
    expect(ended.completed).toBe(false);
    expect(ended.error).toMatchObject({ code: 4401, reason: 'Unauthenticated: this API key is no longer valid.' });
    expect(await raw.closed).toEqual({ code: 4401, reason: 'Unauthenticated: this API key is no longer valid.' });
    // Another key's subscription to the same job goes on.
    await store.write({ ...job, completed: 5 });
    expect(progressOf((await bystander.received(2))[1]!).completed).toBe(5);
  });

  it('closes a connection that sends a malformed message, and goes on serving the others', async () => {
    const garbage = await openRawGraphQLWebSocket(first.url);
    garbage.send('this is not JSON');
    expect((await garbage.closed).code).toBe(4400);

    const early = await openRawGraphQLWebSocket(first.url);
    early.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } });
    expect((await early.closed).code).toBe(4401);

    const unknownType = await openRawGraphQLWebSocket(first.url);
    unknownType.send({ type: 'connection_init', payload: { authorization: `Bearer ${keys.acme}` } });
    await unknownType.message((message) => message['type'] === 'connection_ack');
    unknownType.send({ type: 'launch', id: '1' });
    expect((await unknownType.closed).code).toBe(4400);

    const job = snapshot({ status: JobStatus.SUCCEEDED, completed: 10 });
    await store.write(job);
    const healthy = subscribeForTest(client(first, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId } });
    expect(await healthy.ended).toEqual({ completed: true });
  });

  it('limits the subscriptions a connection may run at once', async () => {
    const jobs = [snapshot(), snapshot(), snapshot(), snapshot()];
    for (const job of jobs) await store.write(job);
    const socket = client(first, keys.acme);
    const running = jobs.slice(0, 3).map((job) => subscribeForTest(socket, { query: progressSubscription, variables: { jobId: job.jobId } }));
    await Promise.all(running.map((subscription) => subscription.received(1)));
    const fourth = subscribeForTest(socket, { query: progressSubscription, variables: { jobId: jobs[3]!.jobId } });
    expect((await fourth.ended).error).toMatchObject([
      { message: expect.stringContaining('at most 3 may run at once'), extensions: { code: 'OPERATION_LIMIT_EXCEEDED', limit: 'subscriptionsPerConnection', maximum: 3 } },
    ]);
    running[0]!.stop();
    const again = subscribeForTest(socket, { query: progressSubscription, variables: { jobId: jobs[3]!.jobId } });
    expect(await again.received(1)).toHaveLength(1);
    for (const subscription of [...running, again]) subscription.stop();
  });

  it('limits the connections an API key holds open across gateway processes', async () => {
    const opened = [];
    for (const gateway of [first, second, first, second]) {
      const raw = await openRawGraphQLWebSocket(gateway.url);
      raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${keys.globex}` } });
      await raw.message((message) => message['type'] === 'connection_ack');
      opened.push(raw);
    }
    const fifth = await openRawGraphQLWebSocket(second.url);
    fifth.send({ type: 'connection_init', payload: { authorization: `Bearer ${keys.globex}` } });
    expect(await fifth.closed).toEqual({ code: 1008, reason: 'Too many connections: this API key already has 4 open.' });

    opened[0]!.socket.close(1000);
    await opened[0]!.closed;
    // The slot is released once the gateway has seen the close; a new connection then gets in.
    let admitted = false;
    while (!admitted) {
      const retry = await openRawGraphQLWebSocket(first.url);
      retry.send({ type: 'connection_init', payload: { authorization: `Bearer ${keys.globex}` } });
      admitted = await Promise.race([retry.message((message) => message['type'] === 'connection_ack').then(() => true), retry.closed.then(() => false)]);
      if (admitted) opened.push(retry);
    }
    for (const raw of opened.slice(1)) raw.socket.close(1000);
    await Promise.all(opened.slice(1).map((raw) => raw.closed));
  });

  it('refuses a subscription to a key without the read scope', async () => {
    const job = snapshot();
    await store.write(job);
    const subscription = subscribeForTest(client(first, keys.writeOnly), { query: progressSubscription, variables: { jobId: job.jobId } });
    expect((await subscription.ended).error).toMatchObject([{ extensions: { code: 'FORBIDDEN', requiredScope: 'read' } }]);
  });

  it('counts each operation against the key’s rate limit', async () => {
    const socket = client(first, keys.limited);
    const outcomes = [];
    // Seven at 3 a minute: even if a minute ends between two of them, one minute sees four.
    for (let attempt = 0; attempt < 7; attempt += 1) {
      const subscription = subscribeForTest(socket, { query: progressSubscription, variables: { jobId: randomUUID() } });
      const ended = await subscription.ended;
      outcomes.push((ended.error as Array<{ extensions: { code: string } }>)[0]!.extensions.code);
    }
    expect(outcomes.slice(0, 3)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(outcomes).toContain('RATE_LIMITED');
  });

  it('pings each client, and drops one that stops answering', async () => {
    const answering = await openRawGraphQLWebSocket(first.url);
    const silent = await openRawGraphQLWebSocket(first.url, { autoPong: false });
    for (const raw of [answering, silent]) raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${keys.acme}` } });
    let pings = 0;
    answering.socket.on('ping', () => (pings += 1));
    // Dropped (no close frame: the connection is cut) once a second ping finds the first unanswered.
    expect((await silent.closed).code).toBe(1006);
    await new Promise<void>((resolve) => answering.socket.on('ping', () => pings >= 2 && resolve()));
    expect(answering.socket.readyState).toBe(answering.socket.OPEN);
    answering.socket.close(1000);
  });
});

describe('throttling', () => {
  it('turns a burst of 1,000 updates into a few events, with the terminal one and the final counts', async () => {
    const job = snapshot({ total: 1_000 });
    await store.write(job);
    const subscription = subscribeForTest(client(first, keys.acme), { query: progressSubscription, variables: { jobId: job.jobId } });
    await subscription.received(1);
    const progress = createThrottledProgress({ store, logger });
    for (let completed = 1; completed <= 1_000; completed += 1) progress.update({ ...job, completed });
    await progress.finish({ ...job, status: JobStatus.SUCCEEDED, completed: 990, failed: 10 });
    expect(await subscription.ended).toEqual({ completed: true });
    // The snapshot, at most the burst's first update and its trailing edge, then the end.
    expect(subscription.results.length).toBeLessThanOrEqual(4);
    expect(progressOf(subscription.results.at(-1)!)).toMatchObject({ status: 'SUCCEEDED', completed: 990, failed: 10, percent: 100 });
  });
});

describe('shutdown', () => {
  it('closes every connection with 1001 and stops listening to the jobs it followed', async () => {
    const leaving = await createApp(loadConfig(environment), { logger });
    const job = snapshot();
    await store.write(job);
    const raw = await openRawGraphQLWebSocket(leaving.url);
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${keys.acme}` } });
    await raw.message((message) => message['type'] === 'connection_ack');
    raw.send({ id: 'progress', type: 'subscribe', payload: { query: progressSubscription, variables: { jobId: job.jobId } } });
    await raw.message((message) => message['type'] === 'next');
    const channel = `${redisKeyPrefix}job-progress:${job.jobId}`;
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);

    await leaving.close();
    expect(await raw.closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 0]);
  });
});
