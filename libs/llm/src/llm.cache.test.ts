import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { captureLogs, startFakeAnthropicServer, startFakeOpenAiServer, testEnvironment, uniqueRedisPrefix, type FakeLlmServer } from '@gtm/testing';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createLlm, type CreateLlmOptions } from './llm.js';
import type { LlmTask, LlmUsageRecord } from './llm.types.js';
import { createAnthropicProvider } from './providers/anthropic.provider.js';
import { createOpenAiProvider } from './providers/openai.provider.js';

const schema = z.object({ valueProposition: z.string().min(1), proofPoints: z.array(z.string()) });
type Positioning = z.infer<typeof schema>;
const task: LlmTask<Positioning, null> = { name: 'positioning', version: '2', schema, offline: () => ({ valueProposition: 'offline', proofPoints: [] }) };
const positioning: Positioning = { valueProposition: 'Close books in a day', proofPoints: ['SOC 2', '200 customers'] };
const request = { task, context: null, prompt: 'Position Acme for CFOs.' };

let openai: FakeLlmServer;
let anthropic: FakeLlmServer;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startFakeOpenAiServer(), startFakeAnthropicServer()]);
  redis = new Redis(testEnvironment.redisUrl);
});
afterAll(async () => {
  await Promise.all([openai.close(), anthropic.close()]);
  redis.disconnect();
});
beforeEach(() => {
  prefix = uniqueRedisPrefix();
  openai.reset();
  anthropic.reset();
  openai.respondWith({ json: positioning, usage: { inputTokens: 400, outputTokens: 100 } });
  anthropic.respondWith({ json: positioning, usage: { inputTokens: 400, outputTokens: 100 } });
});
afterEach(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
});

const openAiProvider = () => createOpenAiProvider({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-5-mini' });
const anthropicProvider = () => createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' });
/** An Llm on the test's own Redis prefix; several of them stand for several processes. */
const llmWith = (options: Partial<CreateLlmOptions> = {}) => createLlm({ providers: [openAiProvider()], redis, cacheKeyPrefix: `${prefix}llm:`, ...options });

describe('cache', () => {
  test('the second identical call makes no upstream request and costs nothing', async () => {
    const usage: LlmUsageRecord[] = [];
    const llm = llmWith({ cacheTtlSeconds: 600, onUsage: (record) => void usage.push(record) });

    const first = await llm.generateObject(request);
    const second = await llm.generateObject(request);

    expect(first).toMatchObject({ cached: false, attempts: 1, costUsd: 0.0003 });
    expect(second).toMatchObject({ object: positioning, provider: 'openai', model: 'gpt-5-mini', cached: true, attempts: 0, costUsd: 0, usage: { inputTokens: 0, outputTokens: 0 } });
    expect(openai.requests).toHaveLength(1);
    expect(usage.map((record) => [record.cached, record.costUsd])).toEqual([
      [false, 0.0003],
      [true, 0],
    ]);
    // The cached value is the validated object, with the configured TTL.
    const [key] = await redis.keys(`${prefix}llm:object:*`);
    expect(JSON.parse((await redis.get(key!))!)).toEqual(positioning);
    const ttl = await redis.ttl(key!);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  test.each([
    ['task version', { ...request, task: { ...task, version: '3' } }],
    ['prompt', { ...request, prompt: 'Position Acme for CTOs.' }],
    ['system', { ...request, system: 'Be brief.' }],
    ['schema', { ...request, task: { ...task, schema: schema.extend({ tagline: z.string().default('') }) } }],
  ])('a different %s is a different entry', async (_what, changed) => {
    const llm = llmWith();
    await llm.generateObject(request);
    await llm.generateObject(changed as typeof request);
    expect(openai.requests).toHaveLength(2);
  });

  test('a different model is a different entry', async () => {
    await llmWith().generateObject(request);
    await llmWith({ providers: [createOpenAiProvider({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-5' })] }).generateObject(request);
    expect(openai.requests.map((entry) => entry.model)).toEqual(['gpt-5-mini', 'gpt-5']);
  });

  test('bypassCache calls the provider and the fresh answer replaces the cached one', async () => {
    const llm = llmWith();
    await llm.generateObject(request);
    openai.respondWith({ json: { valueProposition: 'Close books in an hour', proofPoints: [] } });
    const fresh = await llm.generateObject({ ...request, bypassCache: true });
    expect(fresh).toMatchObject({ cached: false, object: { valueProposition: 'Close books in an hour' } });
    const later = await llm.generateObject(request);
    expect(later).toMatchObject({ cached: true, object: { valueProposition: 'Close books in an hour' } });
    expect(openai.requests).toHaveLength(2);
  });

  test("an answer any configured provider already paid for is reused, whichever provider it came from", async () => {
    await llmWith({ providers: [anthropicProvider()] }).generateObject(request);
    const result = await llmWith({ providers: [openAiProvider(), anthropicProvider()] }).generateObject(request);
    expect(result).toMatchObject({ cached: true, provider: 'anthropic' });
    expect(openai.requests).toHaveLength(0);
    expect(anthropic.requests).toHaveLength(1);
  });

  test('a cached value that no longer validates is ignored', async () => {
    const llm = llmWith();
    await llm.generateObject(request);
    const [key] = await redis.keys(`${prefix}llm:object:*`);
    await redis.set(key!, '{"valueProposition":""}');
    const result = await llm.generateObject(request);
    expect(result.cached).toBe(false);
    expect(openai.requests).toHaveLength(2);
  });

  test('offline answers are never cached', async () => {
    openai.respondWith({ status: 400 });
    const { createOfflineProvider } = await import('./providers/offline.provider.js');
    const llm = llmWith({ providers: [openAiProvider(), createOfflineProvider()] });
    expect((await llm.generateObject(request)).provider).toBe('offline');
    expect(await redis.keys(`${prefix}llm:object:*`)).toEqual([]);
  });

  test('free text is cached too', async () => {
    openai.respondWith({ text: 'Acme closes books in a day.' });
    const llm = llmWith();
    const textTask = { name: 'tagline', version: '1' };
    await llm.generateText({ task: textTask, prompt: 'Tagline for Acme' });
    const second = await llm.generateText({ task: textTask, prompt: 'Tagline for Acme' });
    expect(second).toMatchObject({ text: 'Acme closes books in a day.', cached: true });
    expect(openai.requests).toHaveLength(1);
  });

  test('Redis being down never fails a call', async () => {
    const unreachable = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const logs = captureLogs();
    const llm = createLlm({ providers: [openAiProvider()], redis: unreachable, logger: logs.logger });
    await expect(llm.generateObject(request)).resolves.toMatchObject({ object: positioning, cached: false });
    expect(logs.warnings().map((entry) => entry['msg'])).toContain('LLM cache read failed; continuing without it');
    unreachable.disconnect();
  });
});

describe('single-flight', () => {
  test('10 concurrent identical calls make 1 upstream request; the other 9 share its answer at no cost', async () => {
    openai.respondWith({ json: positioning, delayMs: 200, usage: { inputTokens: 400, outputTokens: 100 } });
    const usage: LlmUsageRecord[] = [];
    const llm = llmWith({ onUsage: (record) => void usage.push(record) });

    const results = await Promise.all(Array.from({ length: 10 }, () => llm.generateObject(request)));

    expect(openai.requests).toHaveLength(1);
    expect(results.every((result) => JSON.stringify(result.object) === JSON.stringify(positioning))).toBe(true);
    expect(results.filter((result) => !result.cached)).toHaveLength(1);
    expect(results.reduce((sum, result) => sum + result.costUsd, 0)).toBe(0.0003);
    expect(usage.filter((record) => !record.cached)).toHaveLength(1);
    expect(usage.filter((record) => record.cached)).toHaveLength(9);
  });

  test('works in-process without Redis too', async () => {
    openai.respondWith({ json: positioning, delayMs: 100 });
    const llm = createLlm({ providers: [openAiProvider()] });
    await Promise.all(Array.from({ length: 5 }, () => llm.generateObject(request)));
    expect(openai.requests).toHaveLength(1);
  });

  test('across processes: a second instance waits for the first one’s answer instead of paying again', async () => {
    openai.respondWith({ json: positioning, delayMs: 300 });
    const [first, second] = await Promise.all([llmWith().generateObject(request), llmWith().generateObject(request)]);
    expect(openai.requests).toHaveLength(1);
    expect([first.cached, second.cached].toSorted()).toEqual([false, true]);
    expect(second.object).toEqual(positioning);
  });

  test('one caller giving up does not cancel the call for the others', async () => {
    openai.respondWith({ json: positioning, delayMs: 500 });
    const llm = llmWith();
    const controller = new AbortController();
    const impatient = llm.generateObject({ ...request, signal: controller.signal });
    const patient = llm.generateObject(request);
    while (openai.requests.length === 0) await sleep(5);
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ code: 'LLM_ABORTED' });
    await expect(patient).resolves.toMatchObject({ object: positioning });
    expect(openai.requests).toHaveLength(1);
  });

  test('when every caller gives up, the shared call is cancelled', async () => {
    openai.respondWith({ json: positioning, delayMs: 5_000 });
    const llm = llmWith();
    const controllers = [new AbortController(), new AbortController()];
    const calls = controllers.map((controller) => llm.generateObject({ ...request, signal: controller.signal }));
    while (openai.requests.length === 0) await sleep(5);
    for (const controller of controllers) controller.abort();
    for (const pending of calls) await expect(pending).rejects.toMatchObject({ code: 'LLM_ABORTED' });
    // Nothing was stored, and a new call goes upstream again.
    openai.respondWith({ json: positioning });
    await expect(llm.generateObject(request)).resolves.toMatchObject({ cached: false });
    expect(openai.requests).toHaveLength(2);
  });
});
