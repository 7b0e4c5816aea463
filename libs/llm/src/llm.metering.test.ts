import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { captureLogs, startFakeOpenAiServer, type FakeLlmServer } from '@gtm/testing';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { createLlm, type CreateLlmOptions } from './llm.js';
import type { LlmTask, LlmUsageRecord } from './llm.types.js';
import { createOfflineProvider } from './providers/offline.provider.js';
import { createOpenAiProvider } from './providers/openai.provider.js';

const schema = z.object({ subject: z.string().min(1) });
const task: LlmTask<{ subject: string }, null> = { name: 'email-subject', version: '7', schema, offline: () => ({ subject: 'Hello' }) };
const request = { task, context: null, prompt: 'Subject line for Acme' };
const reply = { json: { subject: 'Quick question about Acme' }, usage: { inputTokens: 1_000, outputTokens: 500 } };

let openai: FakeLlmServer;
beforeAll(async () => {
  openai = await startFakeOpenAiServer();
});
afterAll(() => openai.close());
beforeEach(() => {
  openai.reset();
  openai.respondWith(reply);
});

const llmFor = (model: string, options: Partial<CreateLlmOptions> = {}) =>
  createLlm({ providers: [createOpenAiProvider({ apiKey: 'sk-test', baseURL: openai.baseURL, model })], retryInitialDelayMs: 1, ...options });

describe('cost accounting', () => {
  test('cost comes from the price table: 1000 in × $0.25/M + 500 out × $2/M', async () => {
    const usage: LlmUsageRecord[] = [];
    const result = await llmFor('gpt-5-mini', { onUsage: (record) => void usage.push(record) }).generateObject(request);

    expect(result).toMatchObject({ usage: { inputTokens: 1_000, outputTokens: 500 }, costUsd: 0.00125 });
    expect(usage).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        task: 'email-subject',
        taskVersion: '7',
        provider: 'openai',
        model: 'gpt-5-mini',
        inputTokens: 1_000,
        outputTokens: 500,
        costUsd: 0.00125,
        latencyMs: expect.any(Number),
        cached: false,
        outcome: 'ok',
        at: expect.any(Date),
      },
    ]);
    expect(usage[0]!.latencyMs).toBeGreaterThan(0);
  });

  test('configured prices override the defaults', async () => {
    const result = await llmFor('gpt-5-mini', { prices: { 'gpt-5-mini': { inputPerMillion: 1, outputPerMillion: 4 } } }).generateObject(request);
    expect(result.costUsd).toBe(0.003);
  });

  test('a dated snapshot reported by the server is priced as its family and recorded as answered', async () => {
    await using snapshotServer = await startFakeOpenAiServer({ respond: reply, model: 'gpt-5-mini-2025-08-07' });
    const usage: LlmUsageRecord[] = [];
    const llm = createLlm({ providers: [createOpenAiProvider({ apiKey: 'sk-test', baseURL: snapshotServer.baseURL, model: 'gpt-5-mini' })], onUsage: (record) => void usage.push(record) });
    const result = await llm.generateObject(request);
    expect(result).toMatchObject({ model: 'gpt-5-mini-2025-08-07', costUsd: 0.00125 });
    expect(usage[0]?.model).toBe('gpt-5-mini-2025-08-07');
  });

  test('a model without a price costs 0 and is warned about once', async () => {
    const logs = captureLogs();
    const llm = llmFor('gpt-9-experimental', { logger: logs.logger });
    expect((await llm.generateObject(request)).costUsd).toBe(0);
    expect((await llm.generateObject({ ...request, prompt: 'another' })).costUsd).toBe(0);
    expect(logs.warnings().map((entry) => entry['msg'])).toEqual(['LLM model gpt-9-experimental has no price; its cost is recorded as 0 (set LLM_PRICES)']);
  });

  test('every billed call counts: a corrective re-ask adds its tokens, a failed HTTP call adds none', async () => {
    openai.enqueue({ status: 500 }, { json: { subject: '' }, usage: { inputTokens: 100, outputTokens: 10 } }, { json: { subject: 'Fixed' }, usage: { inputTokens: 200, outputTokens: 20 } });
    const usage: LlmUsageRecord[] = [];
    const result = await llmFor('gpt-5-mini', { onUsage: (record) => void usage.push(record) }).generateObject(request);
    expect(result).toMatchObject({ attempts: 3, usage: { inputTokens: 300, outputTokens: 30 }, costUsd: 0.000135 });
    expect(usage.map((record) => [record.outcome, record.inputTokens])).toEqual([
      ['invalid_output', 100],
      ['ok', 200],
    ]);
  });

  test('a refusal is billed and metered with outcome "error"', async () => {
    openai.respondWith({ refusal: 'No.', usage: { inputTokens: 50, outputTokens: 5 } });
    const usage: LlmUsageRecord[] = [];
    await expect(llmFor('gpt-5-mini', { onUsage: (record) => void usage.push(record) }).generateObject(request)).rejects.toMatchObject({ code: 'LLM_UNAVAILABLE' });
    expect(usage).toMatchObject([{ outcome: 'error', inputTokens: 50, outputTokens: 5, costUsd: 0.0000225 }]);
  });
});

describe('the onUsage hook', () => {
  test('what it throws or rejects is logged and never breaks the call', async () => {
    const logs = captureLogs();
    const throwing = llmFor('gpt-5-mini', {
      logger: logs.logger,
      onUsage: () => {
        throw new Error('database down');
      },
    });
    await expect(throwing.generateObject(request)).resolves.toMatchObject({ object: { subject: 'Quick question about Acme' } });
    const rejecting = llmFor('gpt-5-mini', { logger: logs.logger, onUsage: () => Promise.reject(new Error('insert failed')) });
    await expect(rejecting.generateObject({ ...request, prompt: 'other' })).resolves.toMatchObject({ cached: false });
    await new Promise((resolve) => setImmediate(resolve));
    const errors = logs.entries().filter((entry) => entry['level'] === 50);
    expect(errors.map((entry) => entry['error'])).toEqual(['database down', 'insert failed']);
  });
});

describe('Prometheus metrics', () => {
  test('calls, tokens, cost, latency, cache and circuit state are exported with bounded labels', async () => {
    const registry = new Registry();
    openai.enqueue({ json: { subject: '' }, usage: { inputTokens: 10, outputTokens: 1 } });
    const llm = llmFor('gpt-5-mini', { metricsRegistry: registry });
    await llm.generateObject(request);
    await Promise.all([llm.generateObject({ ...request, prompt: 'shared' }), llm.generateObject({ ...request, prompt: 'shared' })]);
    // A second instance on the same registry reuses the series instead of failing to register.
    const other = createLlm({
      providers: [createOpenAiProvider({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-5-mini' }), createOfflineProvider()],
      metricsRegistry: registry,
      maxRetries: 0,
      breakerFailures: 1,
    });
    openai.respondWith({ status: 500 });
    expect((await other.generateObject({ ...request, prompt: 'fails' })).provider).toBe('offline');

    const text = await registry.metrics();
    expect(text).toContain('llm_calls_total{task="email-subject",provider="openai",model="gpt-5-mini",outcome="invalid_output"} 1');
    expect(text).toContain('llm_calls_total{task="email-subject",provider="openai",model="gpt-5-mini",outcome="ok"} 2');
    expect(text).toContain('llm_calls_total{task="email-subject",provider="openai",model="gpt-5-mini",outcome="provider_error"} 1');
    expect(text).toContain('llm_tokens_total{task="email-subject",provider="openai",model="gpt-5-mini",direction="input"} 2010');
    expect(text).toContain('llm_tokens_total{task="email-subject",provider="openai",model="gpt-5-mini",direction="output"} 1001');
    const cost = /llm_cost_usd_total\{task="email-subject",provider="openai",model="gpt-5-mini"\} ([\d.e-]+)/.exec(text)?.[1];
    expect(Number(cost)).toBeCloseTo(0.0025045, 12);
    expect(text).toContain('llm_cache_lookups_total{task="email-subject",result="joined"} 1');
    expect(text).toContain('llm_call_duration_seconds_count{provider="openai",model="gpt-5-mini",outcome="ok"} 2');
    expect(text).toContain('llm_failovers_total{provider="openai",reason="LLM_PROVIDER_ERROR"} 1');
    expect(text).toContain('llm_circuit_open{provider="openai",model="gpt-5-mini"} 1');
    expect(text).toContain('llm_calls_total{task="email-subject",provider="offline",model="offline",outcome="ok"} 1');
  });
});
