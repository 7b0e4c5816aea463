import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { ApolloServer } from '@apollo/server';
import type { CallerContext } from '@gtm/caller';
import { createLogger, createRedis, type Redis } from '@gtm/runtime';
import { createTestCaller, testEnvironment, uniqueRedisPrefix } from '@gtm/testing';
import { buildSchema } from 'graphql';
import { llmBackedFieldsOf, useLlmBudget } from './llm-budget.plugin.js';
import { createRateLimiter } from './rate-limiter.js';

const sdl = `
  directive @tag(name: String!) repeatable on FIELD_DEFINITION
  type Query { plain: String, summarize: String @tag(name: "llm") }
  type Mutation { generate: String @tag(name: "llm") @tag(name: "beta"), rename: String @tag(name: "other") }
`;

let redis: Redis;
let server: ApolloServer<{ caller: CallerContext }>;
let modelCalls = 0;

function callModel() {
  modelCalls += 1;
  return 'generated';
}

beforeAll(async () => {
  redis = createRedis({ url: testEnvironment.redisUrl });
  await redis.connect();
  const limiter = createRateLimiter({
    redis,
    keyPrefix: uniqueRedisPrefix(),
    limits: {
      free: { perMinute: 100, perDay: 100, llmPerDay: 3 },
      pro: { perMinute: 100, perDay: 100, llmPerDay: 100 },
      enterprise: { perMinute: 100, perDay: 100, llmPerDay: 100 },
    },
  });
  const schema = buildSchema(sdl);
  server = new ApolloServer({
    schema,
    rootValue: { plain: () => 'plain', summarize: callModel, generate: callModel, rename: () => 'renamed' },
    plugins: [useLlmBudget<{ caller: CallerContext }>({ limiter, llmBackedFields: llmBackedFieldsOf(sdl), callerOf: (context) => context.caller, logger: createLogger({ service: 'test', level: 'silent' }) })],
  });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  await redis?.quit();
});

async function run(query: string, caller: CallerContext) {
  const response = await server.executeOperation({ query }, { contextValue: { caller } });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return { ...response.body.singleResult, status: response.http.status };
}

describe('the daily LLM budget', () => {
  it('finds the LLM-backed root fields by their tag in the supergraph', async () => {
    expect([...llmBackedFieldsOf(sdl)].toSorted()).toEqual(['Mutation.generate', 'Query.summarize']);
    // The composed supergraph keeps each subgraph's tag, and only the root fields that call a model carry it.
    const supergraph = await readFile(new URL('../../supergraph.graphql', import.meta.url), 'utf8');
    expect([...llmBackedFieldsOf(supergraph)].toSorted()).toEqual(['Mutation.analyzeWebsite', 'Mutation.correctAsset', 'Mutation.generateAsset', 'Mutation.generateCampaign', 'Query.icp']);
  });

  it('charges each LLM-backed field, aliases included, refuses past the budget before any model runs, and leaves other operations alone', async () => {
    const caller = createTestCaller({ tier: 'free' });
    expect((await run('mutation { generate }', caller)).errors).toBeUndefined();
    expect((await run('mutation { one: generate two: generate }', caller)).errors).toBeUndefined();
    expect(modelCalls).toBe(3);

    const refused = await run('{ summarize }', caller);
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', budget: 'llm', limit: 3, remaining: 0, window: 'day' });
    expect(refused.errors?.[0]?.message).toMatch(/free tier allows 3 LLM-backed operations per day/);
    expect(modelCalls).toBe(3);

    // Requests that call no model are not charged, budget spent or not.
    expect((await run('{ plain }', caller)).data).toEqual({ plain: 'plain' });
    expect((await run('mutation { rename }', caller)).data).toEqual({ rename: 'renamed' });
    // Another tenant has its own budget.
    expect((await run('{ summarize }', createTestCaller({ tier: 'free' }))).errors).toBeUndefined();
  });

  it('refuses an operation needing more than what is left, without using the rest', async () => {
    const caller = createTestCaller({ tier: 'free' });
    expect((await run('mutation { generate }', caller)).errors).toBeUndefined();
    const tooMuch = await run('mutation { a: generate b: generate c: generate }', caller);
    expect(tooMuch.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect((await run('mutation { a: generate b: generate }', caller)).errors).toBeUndefined();
  });
});
