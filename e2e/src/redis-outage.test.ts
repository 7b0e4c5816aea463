// The stack with a Redis of its own (a real redis-server this test kills and starts again, empty,
// as an in-memory Redis restarts): what each Redis-backed feature does while Redis is away, and
// what comes back after.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGraphQLWebSocketClient, startRedisServer, subscribeForTest, type RedisServerUnderTest } from '@gtm/testing';
import { parse } from 'csv-parse/sync';
import type { Client } from 'graphql-ws';
import { startStack, type Stack } from './stack.js';

const outageGraceMs = 8_000;
let redisServer: RedisServerUnderTest;
let stack: Stack;
let socket: Client;
let freeKey: string;

beforeAll(async () => {
  redisServer = await startRedisServer();
  stack = await startStack({
    redisUrl: redisServer.url,
    gatewayEnvironment: { RATE_LIMIT_FREE_PER_MINUTE: '20', SUBSCRIPTION_OUTAGE_GRACE_MS: String(outageGraceMs) },
  });
  freeKey = (await stack.gateway.services.apiKeys.createKey({ tenant: 'frugal', tier: 'free', scopes: ['read'] })).key;
  socket = createGraphQLWebSocketClient(stack.gatewayUrl, { authorization: `Bearer ${stack.apiKey}` });
});

afterAll(async () => {
  await socket?.dispose();
  // Running again, so every app closes its Redis connections cleanly.
  await redisServer?.start().catch(() => undefined);
  await stack?.close();
  await redisServer?.close();
});

const dealers = (parse(readFileSync(new URL('../../fixtures/leads/florida-dealers-10k.csv', import.meta.url)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>).map(
  (row) => ({ companyName: row['DEALER NAME'] || null, website: row['Dealer Website URL'] || null, email: row['EMAIL'] || row['Owner Email'] || 'unknown@example.invalid' }),
);
const createJob = `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`;
const follow = `subscription Follow($jobId: ID!) { jobProgress(jobId: $jobId) { status completed failed total } }`;
const progressQuery = `query ($jobId: ID!) { jobProgress(jobId: $jobId) { status completed } }`;

async function eventually<Value>(read: () => Promise<Value>, done: (value: Value) => boolean): Promise<Value> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function startedJob(rows: number): Promise<string> {
  // The website step alone: each record is worked on without outside services, quickly.
  const created = await stack.gql(createJob, { input: { name: `dealers-${rows}`, records: dealers.slice(0, rows), steps: ['WEBSITE'] } });
  expect(created.errors).toBeUndefined();
  return created.data!['createEnrichmentJob'].id;
}

describe('while Redis is away', () => {
  let finishedJobId: string;

  it('rate limits hold per gateway process, jobProgress is UPSTREAM_UNAVAILABLE, and a subscription resumes once Redis is back', async () => {
    finishedJobId = await startedJob(20);
    await eventually(() => stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { status } }`, { id: finishedJobId }), (answer) => answer.data?.['enrichmentJob']?.status === 'SUCCEEDED');
    const runningJobId = await startedJob(500);
    const subscription = subscribeForTest(socket, { query: follow, variables: { jobId: runningJobId } });
    await subscription.received(1);

    await redisServer.stop();
    // 45 requests of a key allowed 20 a minute: whatever minute boundary falls among them, at most 40 pass.
    const statuses: number[] = [];
    for (let index = 0; index < 45; index += 1) statuses.push((await stack.gql('{ __typename }', undefined, { authorization: `Bearer ${freeKey}` })).status);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(5);
    const refused = await stack.gql('{ __typename }', undefined, { authorization: `Bearer ${freeKey}` });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');

    const progress = await stack.gql(progressQuery, { jobId: finishedJobId });
    expect(progress.errors?.[0]).toMatchObject({ path: ['jobProgress'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(progress.errors?.[0]?.message).toMatch(/Redis/);

    await redisServer.start();
    // The subscription open across the outage goes on to the job's end.
    expect(await subscription.ended).toEqual({ completed: true });
    expect(subscription.results.every((result) => result.errors === undefined)).toBe(true);
    expect(subscription.results.at(-1)!.data!['jobProgress']).toMatchObject({ status: 'SUCCEEDED', total: 500 });
    // Redis came back empty; the finished job's progress is rebuilt from its row.
    const restored = await eventually(() => stack.gql(progressQuery, { jobId: finishedJobId }), (answer) => answer.data?.['jobProgress'] !== null && answer.data?.['jobProgress'] !== undefined);
    const row = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { status completed } }`, { id: finishedJobId });
    expect(restored.data!['jobProgress']).toEqual(row.data!['enrichmentJob']);
    expect(restored.data!['jobProgress'].status).toBe('SUCCEEDED');
  }, 300_000);

  it('ends a subscription with UPSTREAM_UNAVAILABLE when Redis stays away longer than the grace', async () => {
    const jobId = await startedJob(500);
    const subscription = subscribeForTest(socket, { query: follow, variables: { jobId } });
    await subscription.received(1);
    await redisServer.stop();
    try {
      expect(await subscription.ended).toEqual({ completed: true });
      const last = subscription.results.at(-1)!;
      expect(last.errors).toEqual([{ message: expect.stringMatching(/Subscribe again shortly/), extensions: { code: 'UPSTREAM_UNAVAILABLE' } }]);
    } finally {
      await redisServer.start();
    }
  }, 300_000);
});
