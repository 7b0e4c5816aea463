import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createLlm, createOpenAiProvider } from '@gtm/llm';
import { createLlmUsageReporter, createLogger, createRedis, llmUsageStreamKey, type Redis } from '@gtm/runtime';
import { answerFromSchema, startFakeOpenAiServer, testEnvironment } from '@gtm/testing';
import pg from 'pg';
import { z } from 'zod';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let serviceRedis: Redis;

beforeAll(async () => {
  // Free keys may make two requests a minute here, so a refusal is easy to provoke.
  stack = await startStack({ gatewayEnvironment: { RATE_LIMIT_FREE_PER_MINUTE: '2' } });
  // A service's own connection: the same Redis, under the same key prefix as the gateway.
  serviceRedis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: stack.redisKeyPrefix });
  await serviceRedis.connect();
});

afterAll(async () => {
  serviceRedis?.disconnect();
  await stack?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const aroundNow = () => ({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() });

const usageQuery = `query Usage($from: DateTime!, $to: DateTime!) {
  usage(from: $from, to: $to) {
    from to
    requests { total succeeded failed rateLimited averageDurationMs p95DurationMs }
    outcomes { outcome requests }
    operations { operationName operationType requests failed averageDurationMs }
    llm { calls cachedCalls inputTokens outputTokens costUsd models { service provider model calls cachedCalls inputTokens outputTokens costUsd } }
    days { day requests llmCalls llmCostUsd }
  }
}`;

/** A new tenant with one key. Its id is internal, so it is read from the gateway's registry, as a service would get it from the caller token. */
async function newTenant(slug: string, tier: 'free' | 'pro' = 'pro') {
  const { key, apiKey } = await stack.gateway.services.apiKeys.createKey({ tenant: slug, tier });
  const client = new pg.Client({ connectionString: stack.setup.environment['DATABASE_URL'] });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('select id from gateway.tenant where slug = $1', [slug]);
    return { key, keyId: apiKey.id, tenantId: rows[0]!.id };
  } finally {
    await client.end();
  }
}

async function usageOf(key: string) {
  const answer = await stack.gql(usageQuery, aroundNow(), bearer(key));
  expect(answer.errors).toBeUndefined();
  return answer.data!['usage'];
}

describe('usage metering', () => {
  it('records every request of a tenant with its operation, outcome and duration, refusals included', async () => {
    const acme = await newTenant('usage-acme', 'free');
    const other = await newTenant('usage-other');
    expect((await stack.gql('query ListLeads { leads(first: 1) { edges { node { id } } } }', undefined, bearer(acme.key))).errors).toBeUndefined();
    const invalid = await stack.gql('mutation AddLead { createLead(input: { email: "not an email" }) { id } }', undefined, bearer(acme.key));
    expect(invalid.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const refused = await stack.gql('query ListLeads { leads(first: 1) { edges { node { id } } } }', undefined, bearer(acme.key));
    expect(refused.status).toBe(429);
    // Another tenant's traffic is not acme's usage.
    await stack.gql('query Elsewhere { leads(first: 1) { edges { node { id } } } }', undefined, bearer(other.key));

    // The usage query itself is refused too (free: 2 a minute), so acme's usage is read with a pro key of the same tenant.
    const { key: reader } = await stack.gateway.services.apiKeys.createKey({ tenant: 'usage-acme', tier: 'pro' });
    const usage = await usageOf(reader);
    expect(usage.requests).toMatchObject({ total: 3, succeeded: 1, failed: 2, rateLimited: 1 });
    expect(usage.requests.averageDurationMs).toBeGreaterThan(0);
    expect(usage.requests.p95DurationMs).toBeGreaterThanOrEqual(usage.requests.averageDurationMs * 0.5);
    expect(usage.outcomes).toEqual(
      expect.arrayContaining([
        { outcome: 'OK', requests: 1 },
        { outcome: 'BAD_USER_INPUT', requests: 1 },
        { outcome: 'RATE_LIMITED', requests: 1 },
      ]),
    );
    expect(usage.outcomes).toHaveLength(3);
    expect(usage.operations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operationName: 'ListLeads', operationType: 'query', requests: 1, failed: 0 }),
        // Refused before parsing: the rate limiter answers before the operation is read.
        expect.objectContaining({ operationName: null, operationType: null, requests: 1, failed: 1 }),
        expect.objectContaining({ operationName: 'AddLead', operationType: 'mutation', requests: 1, failed: 1 }),
      ]),
    );
    expect(usage.days).toEqual([{ day: new Date().toISOString().slice(0, 10), requests: 3, llmCalls: 0, llmCostUsd: 0 }]);

    // The first usage query is now part of the usage too.
    const again = await usageOf(reader);
    expect(again.requests.total).toBe(4);
    expect(again.operations).toEqual(expect.arrayContaining([expect.objectContaining({ operationName: 'Usage', requests: 1 })]));
  });

  it('sums the LLM calls services report for the tenant, by service, provider and model, each call once', async () => {
    const acme = await newTenant('llm-acme');
    const other = await newTenant('llm-other');
    const campaign = createLlmUsageReporter({ redis: serviceRedis, service: 'campaign', logger: createLogger({ service: 'campaign', level: 'silent' }) });
    const content = createLlmUsageReporter({ redis: serviceRedis, service: 'content', logger: createLogger({ service: 'content', level: 'silent' }) });
    const call = { task: 'product-overview', provider: 'openai', model: 'gpt-4.1-mini', latencyMs: 420, cached: false, outcome: 'ok' };
    const repeatedId = randomUUID();
    await campaign.report({ tenantId: acme.tenantId, keyId: acme.keyId, requestId: 'r1' }, { ...call, id: repeatedId, inputTokens: 1200, outputTokens: 300, costUsd: 0.00096 });
    // Delivered twice (a retry after a lost acknowledgement): stored once.
    await campaign.report({ tenantId: acme.tenantId, keyId: acme.keyId, requestId: 'r1' }, { ...call, id: repeatedId, inputTokens: 1200, outputTokens: 300, costUsd: 0.00096 });
    await campaign.report({ tenantId: acme.tenantId }, { ...call, inputTokens: 0, outputTokens: 0, costUsd: 0, cached: true });
    await content.report({ tenantId: acme.tenantId }, { ...call, task: 'website-summary', provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 5000, outputTokens: 500, costUsd: 0.0225 });
    await campaign.report({ tenantId: other.tenantId }, { ...call, inputTokens: 99, outputTokens: 99, costUsd: 9 });
    // Something that is not a usage report: skipped, and it does not block the rest.
    await serviceRedis.xadd(llmUsageStreamKey, '*', 'event', '{"id":"garbage"}');
    await campaign.report({ tenantId: acme.tenantId }, { ...call, inputTokens: 100, outputTokens: 10, costUsd: 0.00004 });

    const { llm, days } = await usageOf(acme.key);
    expect(llm).toEqual({
      calls: 4,
      cachedCalls: 1,
      inputTokens: 6300,
      outputTokens: 810,
      costUsd: 0.0235,
      models: [
        { service: 'content', provider: 'anthropic', model: 'claude-sonnet-4-5', calls: 1, cachedCalls: 0, inputTokens: 5000, outputTokens: 500, costUsd: 0.0225 },
        { service: 'campaign', provider: 'openai', model: 'gpt-4.1-mini', calls: 3, cachedCalls: 1, inputTokens: 1300, outputTokens: 310, costUsd: 0.001 },
      ],
    });
    expect(days).toEqual([{ day: new Date().toISOString().slice(0, 10), requests: 0, llmCalls: 4, llmCostUsd: 0.0235 }]);
  });

  it('meters a real model call end to end: the LLM layer, the usage stream, the usage query', async () => {
    const acme = await newTenant('model-acme');
    await using openAi = await startFakeOpenAiServer({ respond: answerFromSchema });
    const reporter = createLlmUsageReporter({ redis: serviceRedis, service: 'campaign', logger: createLogger({ service: 'campaign', level: 'silent' }) });
    const llm = createLlm({
      providers: [createOpenAiProvider({ apiKey: 'sk-test', baseURL: openAi.baseURL, model: 'gpt-5-mini' })],
      // What a service wires: every record of a call made for a caller goes to the usage stream.
      onUsage: (record) => (record.attribution ? reporter.report(record.attribution, record) : undefined),
    });
    const task = { name: 'company-name', version: '1', schema: z.object({ companyName: z.string() }), offline: () => ({ companyName: 'unknown' }) };
    const attribution = { tenantId: acme.tenantId, keyId: acme.keyId, requestId: 'model-call-1' };
    const fresh = await llm.generateObject({ task, context: {}, prompt: 'Which company is this?', attribution });
    expect(fresh.usage.inputTokens).toBeGreaterThan(0);
    // The same call again, at the same moment: answered once upstream, metered twice (once as shared).
    const shared = await Promise.all([llm.generateObject({ task, context: {}, prompt: 'And this one?', attribution }), llm.generateObject({ task, context: {}, prompt: 'And this one?', attribution })]);
    const results = [fresh, ...shared];
    expect(openAi.requests).toHaveLength(2);

    const { llm: usage } = await usageOf(acme.key);
    expect(usage.calls).toBe(3);
    expect(usage.cachedCalls).toBe(1);
    expect(usage.models).toHaveLength(1);
    expect(usage.models[0]).toMatchObject({ service: 'campaign', provider: 'openai', model: 'gpt-5-mini', calls: 3, cachedCalls: 1 });
    const sum = (pick: (result: (typeof results)[number]) => number) => results.reduce((total, result) => total + pick(result), 0);
    expect(usage.inputTokens).toBe(sum((result) => result.usage.inputTokens));
    expect(usage.outputTokens).toBe(sum((result) => result.usage.outputTokens));
    expect(usage.costUsd).toBeGreaterThan(0);
    expect(usage.costUsd).toBeCloseTo(sum((result) => result.costUsd), 8);
  });

  it('refuses a window that ends before it starts or spans more than a year, naming the argument', async () => {
    const backwards = await stack.gql(usageQuery, { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' });
    expect(backwards.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(backwards.errors?.[0]?.message).toMatch(/to must be after `from`/);
    const tooLong = await stack.gql(usageQuery, { from: '2024-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    expect(tooLong.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(tooLong.errors?.[0]?.message).toMatch(/366 days/);
    const notADate = await stack.gql(usageQuery, { from: 'yesterday', to: '2026-01-01T00:00:00Z' });
    expect(notADate.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('shows usage in the composed schema like any subgraph field', async () => {
    const answer = await stack.gql('{ __type(name: "Usage") { fields { name } } }');
    expect(answer.data!['__type'].fields.map((field: { name: string }) => field.name)).toEqual(['from', 'to', 'requests', 'outcomes', 'operations', 'llm', 'days']);
  });
});
