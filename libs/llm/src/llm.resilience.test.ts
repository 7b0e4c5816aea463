import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { startFakeAnthropicServer, startFakeOpenAiServer, type FakeLlmRequest, type FakeLlmServer } from '@gtm/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createLlm, type CreateLlmOptions } from './llm.js';
import { LlmUnavailableError } from './llm.errors.js';
import type { LlmTask } from './llm.types.js';
import { createAnthropicProvider } from './providers/anthropic.provider.js';
import { createOpenAiCompatibleProvider } from './providers/openai-compatible.provider.js';
import { createOpenAiProvider } from './providers/openai.provider.js';

const schema = z.object({ headline: z.string().min(1) });
const task: LlmTask<{ headline: string }, null> = { name: 'headline', version: '1', schema, offline: () => ({ headline: 'offline' }) };
const answer = { json: { headline: 'Ship faster' } };
let promptNumber = 0;
/** A distinct prompt per call, so single-flight never merges calls a test means to be separate. */
const call = (extra: { signal?: AbortSignal } = {}) => ({ task, context: null, prompt: `Write headline #${++promptNumber}`, ...extra });

let openai: FakeLlmServer;
let anthropic: FakeLlmServer;
let compatible: FakeLlmServer;
beforeAll(async () => {
  [openai, anthropic, compatible] = await Promise.all([startFakeOpenAiServer(), startFakeAnthropicServer(), startFakeOpenAiServer()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), anthropic.close(), compatible.close()]);
});
beforeEach(() => {
  for (const server of [openai, anthropic, compatible]) {
    server.reset();
    server.respondWith(answer);
  }
});

const openAiProvider = () => createOpenAiProvider({ apiKey: 'sk-openai-secret-123456', baseURL: openai.baseURL, model: 'gpt-5-mini' });
const anthropicProvider = () => createAnthropicProvider({ apiKey: 'sk-ant-secret-123456', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' });
const compatibleProvider = () => createOpenAiCompatibleProvider({ baseURL: compatible.baseURL, model: 'llama3.1' });
// Short backoff so that a test's waits come from Retry-After alone.
const fast: Partial<CreateLlmOptions> = { retryInitialDelayMs: 1, retryMaxDelayMs: 5 };

const failureOf = (promise: Promise<unknown>) => promise.then(
  () => {
    throw new Error('expected the call to fail');
  },
  (error: unknown) => error as LlmUnavailableError,
);

describe('retries', () => {
  test('a 429 is retried after the Retry-After seconds it gives', async () => {
    openai.enqueue({ status: 429, retryAfterSeconds: 1 });
    const result = await createLlm({ providers: [openAiProvider()], ...fast }).generateObject(call());
    expect(result).toMatchObject({ object: { headline: 'Ship faster' }, provider: 'openai', attempts: 2 });
    expect(openai.requests).toHaveLength(2);
    expect(openai.requests[1]!.receivedAt - openai.requests[0]!.receivedAt).toBeGreaterThanOrEqual(1_000);
  });

  test("OpenAI's retry-after-ms is honoured too", async () => {
    openai.enqueue({ status: 429, retryAfterMs: 300 }, { status: 429, retryAfterMs: 300 });
    const result = await createLlm({ providers: [openAiProvider()], ...fast }).generateObject(call());
    expect(result.attempts).toBe(3);
    const [first, second, third] = openai.requests as [FakeLlmRequest, FakeLlmRequest, FakeLlmRequest];
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(300);
    expect(third.receivedAt - second.receivedAt).toBeGreaterThanOrEqual(300);
  });

  test('a Retry-After longer than the layer will wait fails over at once instead', async () => {
    openai.respondWith({ status: 429, retryAfterSeconds: 120 });
    const result = await createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast, maxRetryAfterMs: 5_000 }).generateObject(call());
    expect(result.provider).toBe('anthropic');
    expect(openai.requests).toHaveLength(1);
  });

  test('5xx and dropped connections are retried with backoff until the provider answers', async () => {
    openai.enqueue({ status: 500 }, { disconnect: true }, { status: 503 });
    const result = await createLlm({ providers: [openAiProvider()], ...fast, maxRetries: 3 }).generateObject(call());
    expect(result).toMatchObject({ provider: 'openai', attempts: 4 });
    expect(openai.requests).toHaveLength(4);
  });

  test('Anthropic 529 "overloaded" is retried', async () => {
    anthropic.enqueue({ status: 529 });
    const result = await createLlm({ providers: [anthropicProvider()], ...fast }).generateObject(call());
    expect(result).toMatchObject({ provider: 'anthropic', attempts: 2 });
  });

  test.each([400, 401, 403, 404, 422])('HTTP %i is never retried', async (status) => {
    openai.respondWith({ status });
    const failure = await failureOf(createLlm({ providers: [openAiProvider()], ...fast, maxRetries: 3 }).generateObject(call()));
    expect(openai.requests).toHaveLength(1);
    expect(failure.failures[0]?.error).toMatchObject({ code: 'LLM_PROVIDER_ERROR', status, isRetryable: false });
  });

  test('retries stop after maxRetries and the error says why', async () => {
    openai.respondWith({ status: 500, message: 'The server had an error' });
    const failure = await failureOf(createLlm({ providers: [openAiProvider()], ...fast, maxRetries: 2 }).generateObject(call()));
    expect(openai.requests).toHaveLength(3);
    expect(failure).toBeInstanceOf(LlmUnavailableError);
    expect(failure.isRetryable).toBe(true);
    expect(failure.message).toContain('openai (gpt-5-mini): HTTP 500: The server had an error');
  });
});

describe('failover', () => {
  test('providers are tried in order, each only after the previous one failed', async () => {
    openai.respondWith({ status: 500 });
    anthropic.respondWith({ status: 400 });
    compatible.respondWith({ json: { headline: 'From the local model' } });
    const result = await createLlm({ providers: [openAiProvider(), anthropicProvider(), compatibleProvider()], ...fast, maxRetries: 1 }).generateObject(call());

    expect(result).toMatchObject({ object: { headline: 'From the local model' }, provider: 'openai-compatible', attempts: 4 });
    expect([openai.requests.length, anthropic.requests.length, compatible.requests.length]).toEqual([2, 1, 1]);
    expect(openai.requests[1]!.receivedAt).toBeLessThanOrEqual(anthropic.requests[0]!.receivedAt);
    expect(anthropic.requests[0]!.receivedAt).toBeLessThanOrEqual(compatible.requests[0]!.receivedAt);
  });

  test('when every provider fails, the error lists each one and why, and no key', async () => {
    openai.respondWith({ status: 401, message: 'Incorrect API key provided: sk-openai-secret-123456.' });
    anthropic.respondWith({ status: 500 });
    const failure = await failureOf(createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast, maxRetries: 0 }).generateObject(call()));
    expect(failure.code).toBe('LLM_UNAVAILABLE');
    expect(failure.failures.map((entry) => [entry.provider, entry.error.code])).toEqual([
      ['openai', 'LLM_PROVIDER_ERROR'],
      ['anthropic', 'LLM_PROVIDER_ERROR'],
    ]);
    expect(failure.message).toMatch(/openai \(gpt-5-mini\): HTTP 401[\s\S]*anthropic \(claude-haiku-4-5\): HTTP 500/);
    expect(failure.message).not.toContain('secret-123456');
    expect(JSON.stringify(failure.failures.map((entry) => entry.error.message))).not.toContain('secret-123456');
  });
});

describe('circuit breaker', () => {
  test('opens after N consecutive failures: no request reaches the provider, failover is immediate; half-opens and recovers', async () => {
    openai.respondWith({ status: 503 });
    const llm = createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast, maxRetries: 0, breakerFailures: 3, breakerHalfOpenAfterMs: 3_000 });

    for (let index = 0; index < 3; index += 1) expect((await llm.generateObject(call())).provider).toBe('anthropic');
    expect(openai.requests).toHaveLength(3);
    expect(llm.providerStates()).toEqual([
      { provider: 'openai', model: 'gpt-5-mini', circuit: 'open' },
      { provider: 'anthropic', model: 'claude-haiku-4-5', circuit: 'closed' },
    ]);

    // Open: the provider is skipped without a network call (the five calls take far less than the
    // half-open delay, even on a loaded machine).
    for (let index = 0; index < 5; index += 1) {
      const result = await llm.generateObject(call());
      expect(result).toMatchObject({ provider: 'anthropic', attempts: 1 });
    }
    expect(openai.requests).toHaveLength(3);

    // After the half-open delay one trial call goes through; it succeeds, so the circuit closes.
    openai.respondWith(answer);
    await sleep(3_050);
    expect((await llm.generateObject(call())).provider).toBe('openai');
    expect(openai.requests).toHaveLength(4);
    expect(llm.providerStates()[0]?.circuit).toBe('closed');
    expect((await llm.generateObject(call())).provider).toBe('openai');
  });

  test('a failed trial call opens the circuit again', async () => {
    openai.respondWith({ status: 500 });
    const llm = createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast, maxRetries: 0, breakerFailures: 2, breakerHalfOpenAfterMs: 200 });
    await llm.generateObject(call());
    await llm.generateObject(call());
    expect(llm.providerStates()[0]?.circuit).toBe('open');
    await sleep(250);
    expect((await llm.generateObject(call())).provider).toBe('anthropic');
    expect(openai.requests).toHaveLength(3);
    expect(llm.providerStates()[0]?.circuit).toBe('open');
    await llm.generateObject(call());
    expect(openai.requests).toHaveLength(3);
  });

  test('every retry counts: one call with retries can open the circuit', async () => {
    openai.respondWith({ status: 500 });
    const llm = createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast, maxRetries: 4, breakerFailures: 3, breakerHalfOpenAfterMs: 60_000 });
    const result = await llm.generateObject(call());
    // The third failure opened the circuit, so the fourth attempt never left the process.
    expect(openai.requests).toHaveLength(3);
    expect(result).toMatchObject({ provider: 'anthropic', attempts: 4 });
  });

  test('bad requests and refusals do not open the circuit', async () => {
    openai.respondWith({ status: 400 });
    const llm = createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast, maxRetries: 0, breakerFailures: 2 });
    for (let index = 0; index < 3; index += 1) await llm.generateObject(call());
    openai.respondWith({ refusal: 'no' });
    for (let index = 0; index < 3; index += 1) await llm.generateObject(call());
    expect(openai.requests).toHaveLength(6);
    expect(llm.providerStates()[0]?.circuit).toBe('closed');
  });
});

describe('timeouts and cancellation', () => {
  test('a slow answer times out per attempt, is retried, then fails over', async () => {
    openai.respondWith({ ...answer, delayMs: 10_000 });
    const llm = createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast, timeoutMs: 200, maxRetries: 1 });
    const result = await llm.generateObject(call());
    expect(result).toMatchObject({ provider: 'anthropic', attempts: 3 });
    expect(openai.requests).toHaveLength(2);
  });

  test('the timeout error names the limit', async () => {
    openai.respondWith({ ...answer, delayMs: 10_000 });
    const failure = await failureOf(createLlm({ providers: [openAiProvider()], ...fast, timeoutMs: 150, maxRetries: 0 }).generateObject(call()));
    expect(failure.failures[0]?.error).toMatchObject({ code: 'LLM_TIMEOUT', isRetryable: true });
    expect(failure.message).toContain('no answer within 150 ms');
  });

  test("the caller's AbortSignal stops the call and no other provider is tried", async () => {
    openai.respondWith({ ...answer, delayMs: 10_000 });
    const controller = new AbortController();
    const pending = createLlm({ providers: [openAiProvider(), anthropicProvider()], ...fast }).generateObject(call({ signal: controller.signal }));
    while (openai.requests.length === 0) await sleep(5);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'LLM_ABORTED' });
    expect(anthropic.requests).toHaveLength(0);
  });
});

describe('concurrency cap', () => {
  test('at most maxConcurrency requests are in flight per provider; the rest queue', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    openai.respondWith(async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      // Each request is held a while, so that without a cap all six would be in flight together.
      await sleep(100);
      inFlight -= 1;
      return answer;
    });
    const llm = createLlm({ providers: [openAiProvider()], maxConcurrency: 2, maxQueue: 10 });
    const results = await Promise.all(Array.from({ length: 6 }, () => llm.generateObject(call())));
    expect(results.every((result) => result.provider === 'openai')).toBe(true);
    expect(openai.requests).toHaveLength(6);
    expect(mostInFlight).toBeLessThanOrEqual(2);
  });

  test('a full queue skips the provider instead of waiting', async () => {
    openai.respondWith({ ...answer, delayMs: 300 });
    const llm = createLlm({ providers: [openAiProvider(), anthropicProvider()], maxConcurrency: 1, maxQueue: 1 });
    const results = await Promise.all(Array.from({ length: 4 }, () => llm.generateObject(call())));
    expect(results.map((result) => result.provider).toSorted()).toEqual(['anthropic', 'anthropic', 'openai', 'openai']);
    expect(openai.requests).toHaveLength(2);
  });
});
