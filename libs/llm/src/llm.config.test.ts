import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { captureLogs, startFakeAnthropicServer, startFakeOpenAiServer, testEnvironment, uniqueRedisPrefix, type FakeLlmServer } from '@gtm/testing';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createLlmFromConfig, llmEnvironmentSchema, llmProviderOrder } from './llm.config.js';
import type { LlmTask } from './llm.types.js';

const task: LlmTask<{ name: string }, { name: string }> = {
  name: 'company-name',
  version: '1',
  schema: z.object({ name: z.string().min(1) }),
  offline: ({ name }) => ({ name }),
};
const request = { task, context: { name: 'Offline Inc' }, prompt: 'Name the company.' };
const openAiKey = 'sk-live-9f8e7d6c5b4a39281706';
const anthropicKey = 'sk-ant-api03-9f8e7d6c5b4a39281706';

let openai: FakeLlmServer;
let anthropic: FakeLlmServer;
beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startFakeOpenAiServer({ apiKey: openAiKey }), startFakeAnthropicServer({ apiKey: anthropicKey })]);
});
afterAll(() => Promise.all([openai.close(), anthropic.close()]));
beforeEach(() => {
  openai.reset();
  anthropic.reset();
  openai.respondWith({ json: { name: 'From OpenAI' } });
  anthropic.respondWith({ json: { name: 'From Anthropic' } });
});

describe('llmEnvironmentSchema', () => {
  test('defaults run offline with the documented limits', () => {
    const config = llmEnvironmentSchema.parse({});
    expect(llmProviderOrder(config)).toEqual(['offline']);
    expect(config).toEqual({
      OPENAI_MODEL: 'gpt-5-mini',
      OPENAI_API: 'chat',
      ANTHROPIC_MODEL: 'claude-haiku-4-5',
      OPENAI_COMPATIBLE_RESPONSE_FORMAT: 'json_schema',
      LLM_TIMEOUT_MS: 30_000,
      LLM_MAX_RETRIES: 2,
      LLM_BREAKER_FAILURES: 5,
      LLM_BREAKER_HALF_OPEN_MS: 60_000,
      LLM_MAX_CONCURRENCY: 8,
      LLM_MAX_QUEUE: 100,
      LLM_CACHE_TTL_SECONDS: 86_400,
    });
  });

  test('reads the provider order, numbers and the price table from strings', () => {
    const config = llmEnvironmentSchema.parse({
      LLM_PROVIDERS: ' OpenAI, anthropic ,offline',
      LLM_TIMEOUT_MS: '5000',
      LLM_PRICES: '{"my-model":{"input":1.5,"output":6}}',
    });
    expect(config.LLM_PROVIDERS).toEqual(['openai', 'anthropic', 'offline']);
    expect(config.LLM_TIMEOUT_MS).toBe(5_000);
    expect(config.LLM_PRICES).toEqual({ 'my-model': { inputPerMillion: 1.5, outputPerMillion: 6 } });
  });

  test.each([
    [{ LLM_PROVIDERS: 'openai,gemini' }, 'LLM_PROVIDERS'],
    [{ LLM_PROVIDERS: 'openai,openai' }, 'LLM_PROVIDERS'],
    [{ LLM_PRICES: '{gpt:' }, 'LLM_PRICES'],
    [{ LLM_PRICES: '{"gpt-5":{"input":-1,"output":2}}' }, 'LLM_PRICES'],
    [{ OPENAI_BASE_URL: 'api.openai.com' }, 'OPENAI_BASE_URL'],
    [{ LLM_TIMEOUT_MS: 'soon' }, 'LLM_TIMEOUT_MS'],
  ])('refuses %j, naming %s', (environment, variable) => {
    const result = llmEnvironmentSchema.safeParse(environment);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(variable);
  });

  test("spreads into a service's own config schema", () => {
    const serviceSchema = z.object({ PORT: z.coerce.number(), ...llmEnvironmentSchema.shape });
    expect(serviceSchema.parse({ PORT: '4001', LLM_PROVIDERS: 'anthropic,offline' })).toMatchObject({ PORT: 4001, LLM_PROVIDERS: ['anthropic', 'offline'] });
  });
});

describe('createLlmFromConfig', () => {
  test('without LLM_PROVIDERS, uses every provider whose key is set, in the documented order, then offline', async () => {
    const logs = captureLogs();
    const config = llmEnvironmentSchema.parse({ ANTHROPIC_API_KEY: anthropicKey, ANTHROPIC_BASE_URL: anthropic.baseURL, OPENAI_API_KEY: openAiKey, OPENAI_BASE_URL: openai.baseURL });
    expect(llmProviderOrder(config)).toEqual(['openai', 'anthropic', 'offline']);
    const llm = createLlmFromConfig(config, { logger: logs.logger });
    expect(llm.providerStates().map((state) => state.provider)).toEqual(['openai', 'anthropic', 'offline']);
    expect(logs.warnings()).toEqual([]);
    await expect(llm.generateObject(request)).resolves.toMatchObject({ object: { name: 'From OpenAI' }, provider: 'openai' });
    expect(llmProviderOrder(llmEnvironmentSchema.parse({ OPENAI_COMPATIBLE_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_COMPATIBLE_MODEL: 'llama3' }))).toEqual(['openai-compatible', 'offline']);
  });

  test('builds providers in LLM_PROVIDERS order and skips one without its key with a single warning', async () => {
    const logs = captureLogs();
    const config = llmEnvironmentSchema.parse({
      LLM_PROVIDERS: 'openai,anthropic,offline',
      ANTHROPIC_API_KEY: anthropicKey,
      ANTHROPIC_BASE_URL: anthropic.baseURL,
    });
    const llm = createLlmFromConfig(config, { logger: logs.logger });

    expect(llm.providerStates().map((state) => state.provider)).toEqual(['anthropic', 'offline']);
    expect(logs.warnings()).toHaveLength(1);
    expect(logs.warnings()[0]).toMatchObject({ provider: 'openai', missing: 'OPENAI_API_KEY', msg: 'LLM provider openai skipped: OPENAI_API_KEY is not set' });
    await expect(llm.generateObject(request)).resolves.toMatchObject({ object: { name: 'From Anthropic' }, provider: 'anthropic' });
  });

  test('an OpenAI-compatible server needs its base URL and model', () => {
    const logs = captureLogs();
    const llm = createLlmFromConfig(llmEnvironmentSchema.parse({ LLM_PROVIDERS: 'openai-compatible', OPENAI_COMPATIBLE_BASE_URL: 'http://127.0.0.1:11434/v1' }), { logger: logs.logger });
    expect(logs.warnings().map((entry) => entry['msg'])).toEqual([
      'LLM provider openai-compatible skipped: OPENAI_COMPATIBLE_MODEL is not set',
      'No LLM provider in LLM_PROVIDERS is usable; answering offline',
    ]);
    expect(llm.providerStates()).toEqual([{ provider: 'offline', model: 'offline', circuit: 'not-applicable' }]);
  });

  test('the settings reach the providers and policies: base URL, Responses API, retries, breaker, cache TTL', async () => {
    const prefix = uniqueRedisPrefix();
    const redis = new Redis(testEnvironment.redisUrl, { keyPrefix: prefix });
    // KEYS patterns are not prefixed by the client, and the keys it returns carry the prefix.
    const ownKeys = async (pattern: string) => (await redis.keys(`${prefix}${pattern}`)).map((key) => key.slice(prefix.length));
    try {
      const config = llmEnvironmentSchema.parse({
        LLM_PROVIDERS: 'openai,offline',
        OPENAI_API_KEY: openAiKey,
        OPENAI_BASE_URL: openai.baseURL,
        OPENAI_MODEL: 'gpt-5-nano',
        OPENAI_API: 'responses',
        LLM_MAX_RETRIES: '0',
        LLM_BREAKER_FAILURES: '1',
        LLM_CACHE_TTL_SECONDS: '120',
      });
      const llm = createLlmFromConfig(config, { logger: captureLogs().logger, redis });
      await expect(llm.generateObject(request)).resolves.toMatchObject({ provider: 'openai', model: 'gpt-5-nano' });
      expect(openai.requests.map((entry) => [entry.endpoint, entry.model])).toEqual([['responses', 'gpt-5-nano']]);
      const [key] = await ownKeys('llm:object:*');
      const ttl = await redis.ttl(key!);
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);

      openai.respondWith({ status: 500 });
      await expect(llm.generateObject({ ...request, prompt: 'again' })).resolves.toMatchObject({ provider: 'offline' });
      expect(openai.requests).toHaveLength(2); // no retry
      expect(llm.providerStates()[0]?.circuit).toBe('open'); // one failure opened it
    } finally {
      const keys = await ownKeys('*');
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

describe('secrets', () => {
  test('keys never appear in logs or error messages, even when the provider echoes them', async () => {
    const logs = captureLogs();
    openai.respondWith({ status: 401, message: `Incorrect API key provided: ${openAiKey}. You can find your API key at https://platform.openai.com.` });
    anthropic.respondWith({ status: 403, message: `key ${anthropicKey} may not use this model` });
    const config = llmEnvironmentSchema.parse({
      LLM_PROVIDERS: 'openai,anthropic',
      OPENAI_API_KEY: openAiKey,
      OPENAI_BASE_URL: openai.baseURL,
      ANTHROPIC_API_KEY: anthropicKey,
      ANTHROPIC_BASE_URL: anthropic.baseURL,
    });
    const llm = createLlmFromConfig(config, { logger: logs.logger });
    const failure = await llm.generateObject(request).then(
      () => undefined,
      (error: unknown) => error as Error,
    );

    // Both keys were really sent, and both providers really failed.
    expect(openai.requests[0]?.apiKey).toBe(openAiKey);
    expect(anthropic.requests[0]?.apiKey).toBe(anthropicKey);
    expect(failure?.message).toMatch(/openai \(gpt-5-mini\): HTTP 401: Incorrect API key provided: \[redacted\]/);
    const everything = [failure?.message, JSON.stringify(failure), ...logs.lines].join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(everything).not.toContain('9f8e7d6c5b4a39281706');
  });
});
