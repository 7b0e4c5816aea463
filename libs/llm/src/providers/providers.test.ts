import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { answerFromSchema, startFakeAnthropicServer, startFakeOpenAiServer, type FakeLlmServer } from '@gtm/testing';
import { z } from 'zod';
import { createLlm } from '../llm.js';
import type { LlmTask } from '../llm.types.js';
import { createAnthropicProvider } from './anthropic.provider.js';
import { createOfflineProvider } from './offline.provider.js';
import { createOpenAiCompatibleProvider } from './openai-compatible.provider.js';
import { createOpenAiProvider } from './openai.provider.js';

const companySchema = z.object({
  companyName: z.string().min(1),
  industries: z.array(z.string()).min(1).max(5),
  employeeRange: z.enum(['1-10', '11-50', '51-200', '201-1000', '1000+']),
});
type Company = z.infer<typeof companySchema>;

const companyTask: LlmTask<Company, { website: string }> = {
  name: 'company-profile',
  version: '3',
  schema: companySchema,
  system: 'You extract a company profile from its website.',
  // Extractive: the first word of the site's text, nothing invented.
  offline: ({ website }) => ({ companyName: website.split(/\s+/)[0] ?? 'Unknown', industries: ['unknown'], employeeRange: '1-10' }),
};

const acme: Company = { companyName: 'Acme', industries: ['software', 'analytics'], employeeRange: '51-200' };
const prompt = 'Website text: Acme builds analytics software for retailers.';

let openai: FakeLlmServer;
let anthropic: FakeLlmServer;

beforeAll(async () => {
  openai = await startFakeOpenAiServer({ apiKey: 'sk-test-openai-key' });
  anthropic = await startFakeAnthropicServer({ apiKey: 'sk-ant-test-key' });
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});
beforeEach(() => {
  openai.reset();
  anthropic.reset();
});

describe('openai (Chat Completions)', () => {
  test('sends the JSON schema as a strict structured output and returns the validated object with usage and cost', async () => {
    openai.respondWith((request) => ({ json: acme, usage: { inputTokens: 1_000, outputTokens: 200 }, ...(request.model === 'gpt-5-mini' ? {} : { status: 404 }) }));
    const llm = createLlm({ providers: [createOpenAiProvider({ apiKey: 'sk-test-openai-key', baseURL: openai.baseURL, model: 'gpt-5-mini' })] });

    const result = await llm.generateObject({ task: companyTask, context: { website: '' }, prompt, temperature: 0.2, maxOutputTokens: 500 });

    expect(result).toMatchObject({
      object: acme,
      provider: 'openai',
      model: 'gpt-5-mini',
      usage: { inputTokens: 1_000, outputTokens: 200 },
      costUsd: 0.00065, // 1000 × $0.25/M + 200 × $2/M
      attempts: 1,
      cached: false,
      firstAttemptValid: true,
      repaired: false,
    });
    expect(result.confidence).toBeUndefined();
    expect(openai.requests).toHaveLength(1);
    const [request] = openai.requests;
    expect(request?.endpoint).toBe('chat.completions');
    expect(request?.apiKey).toBe('sk-test-openai-key');
    expect(request?.body).toMatchObject({
      model: 'gpt-5-mini',
      temperature: 0.2,
      max_completion_tokens: 500,
      messages: [
        { role: 'system', content: companyTask.system },
        { role: 'user', content: prompt },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'company-profile', strict: true } },
    });
    expect(request?.schema).toMatchObject({ type: 'object', required: ['companyName', 'industries', 'employeeRange'], additionalProperties: false });
  });

  test('the SDK retries nothing by itself: one 500 is one request when the layer allows no retry', async () => {
    openai.respondWith({ status: 500 });
    const llm = createLlm({ providers: [createOpenAiProvider({ apiKey: 'sk-test-openai-key', baseURL: openai.baseURL, model: 'gpt-5-mini' })], maxRetries: 0 });
    await expect(llm.generateObject({ task: companyTask, context: { website: '' }, prompt })).rejects.toMatchObject({ code: 'LLM_UNAVAILABLE' });
    expect(openai.requests).toHaveLength(1);
  });
});

describe('openai (Responses API)', () => {
  test("sends the schema as text.format json_schema with the system as instructions, and reads output_text", async () => {
    openai.respondWith({ json: acme, usage: { inputTokens: 300, outputTokens: 40 } });
    const llm = createLlm({ providers: [createOpenAiProvider({ apiKey: 'sk-test-openai-key', baseURL: openai.baseURL, model: 'gpt-5-mini', api: 'responses' })] });

    const result = await llm.generateObject({ task: companyTask, context: { website: '' }, prompt, maxOutputTokens: 800 });

    expect(result).toMatchObject({ object: acme, provider: 'openai', usage: { inputTokens: 300, outputTokens: 40 }, firstAttemptValid: true });
    expect(openai.requests.map((request) => request.endpoint)).toEqual(['responses']);
    expect(openai.requests[0]?.body).toMatchObject({
      model: 'gpt-5-mini',
      instructions: companyTask.system,
      input: [{ role: 'user', content: prompt }],
      store: false,
      max_output_tokens: 800,
      text: { format: { type: 'json_schema', name: 'company-profile', strict: true, schema: { type: 'object' } } },
    });
  });

  test('a refusal content part is a refusal, metered and not retried', async () => {
    openai.respondWith({ refusal: 'I cannot help with that.' });
    const llm = createLlm({ providers: [createOpenAiProvider({ apiKey: 'sk-test-openai-key', baseURL: openai.baseURL, model: 'gpt-5-mini', api: 'responses' })] });
    const failure = await llm.generateObject({ task: companyTask, context: { website: '' }, prompt }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'LLM_UNAVAILABLE', failures: [{ provider: 'openai', error: { code: 'LLM_REFUSAL', refusal: 'I cannot help with that.' } }] });
    expect(openai.requests).toHaveLength(1);
  });
});

describe('anthropic', () => {
  test('forces one tool whose input_schema is the task schema and reads the tool_use input', async () => {
    anthropic.respondWith({ json: acme, usage: { inputTokens: 2_000, outputTokens: 100 } });
    const llm = createLlm({ providers: [createAnthropicProvider({ apiKey: 'sk-ant-test-key', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' })] });

    const result = await llm.generateObject({ task: companyTask, context: { website: '' }, prompt, maxOutputTokens: 700 });

    expect(result).toMatchObject({ object: acme, provider: 'anthropic', model: 'claude-haiku-4-5', usage: { inputTokens: 2_000, outputTokens: 100 }, costUsd: 0.0025 });
    const [request] = anthropic.requests;
    expect(request?.apiKey).toBe('sk-ant-test-key');
    expect(request?.headers['anthropic-version']).toBeDefined();
    expect(request?.body).toMatchObject({
      model: 'claude-haiku-4-5',
      max_tokens: 700,
      system: companyTask.system,
      messages: [{ role: 'user', content: prompt }],
      tools: [{ name: 'company-profile', input_schema: { type: 'object', required: ['companyName', 'industries', 'employeeRange'] } }],
      tool_choice: { type: 'tool', name: 'company-profile' },
    });
  });

  test('native structured output sends output_config.format and parses the text answer', async () => {
    anthropic.respondWith({ json: acme });
    const llm = createLlm({
      providers: [createAnthropicProvider({ apiKey: 'sk-ant-test-key', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5', structuredOutput: 'native' })],
    });
    const result = await llm.generateObject({ task: companyTask, context: { website: '' }, prompt });
    expect(result.object).toEqual(acme);
    expect(anthropic.requests[0]?.body.tools).toBeUndefined();
    expect(anthropic.requests[0]?.body.output_config).toMatchObject({ format: { type: 'json_schema', schema: { type: 'object' } } });
    // The Messages API requires max_tokens; the provider supplies its default.
    expect(anthropic.requests[0]?.body.max_tokens).toBe(4096);
  });

  test('stop_reason "refusal" is a refusal', async () => {
    anthropic.respondWith({ refusal: 'I will not do that.' });
    const llm = createLlm({ providers: [createAnthropicProvider({ apiKey: 'sk-ant-test-key', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' })] });
    await expect(llm.generateObject({ task: companyTask, context: { website: '' }, prompt })).rejects.toMatchObject({
      failures: [{ error: { code: 'LLM_REFUSAL' } }],
    });
    expect(anthropic.requests).toHaveLength(1);
  });

  test('free text comes from the text blocks, with no tools sent', async () => {
    anthropic.respondWith({ text: 'Acme sells analytics software.' });
    const llm = createLlm({ providers: [createAnthropicProvider({ apiKey: 'sk-ant-test-key', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' })] });
    const result = await llm.generateText({ task: { name: 'summary', version: '1' }, prompt });
    expect(result).toMatchObject({ text: 'Acme sells analytics software.', provider: 'anthropic', cached: false });
    expect(anthropic.requests[0]?.body.tools).toBeUndefined();
  });
});

describe('openai-compatible', () => {
  test('json_schema mode: same protocol by base URL, max_tokens, free by default', async () => {
    await using server = await startFakeOpenAiServer({ respond: { json: acme, usage: { inputTokens: 5_000, outputTokens: 5_000 } } });
    const llm = createLlm({ providers: [createOpenAiCompatibleProvider({ baseURL: server.baseURL, model: 'llama3.1:8b' })] });

    const result = await llm.generateObject({ task: companyTask, context: { website: '' }, prompt, maxOutputTokens: 256 });

    expect(result).toMatchObject({ object: acme, provider: 'openai-compatible', model: 'llama3.1:8b', costUsd: 0 });
    expect(server.requests[0]?.body).toMatchObject({ max_tokens: 256, response_format: { type: 'json_schema', json_schema: { name: 'company-profile' } } });
    expect(server.requests[0]?.body.max_completion_tokens).toBeUndefined();
  });

  test('json_object mode puts the schema in the system instructions', async () => {
    await using server = await startFakeOpenAiServer({ respond: { text: JSON.stringify(acme) } });
    const llm = createLlm({ providers: [createOpenAiCompatibleProvider({ baseURL: server.baseURL, model: 'qwen2.5', responseFormat: 'json_object' })] });

    const result = await llm.generateObject({ task: companyTask, context: { website: '' }, prompt });

    expect(result.object).toEqual(acme);
    const [request] = server.requests;
    expect(request?.body.response_format).toEqual({ type: 'json_object' });
    expect(request?.system).toContain(companyTask.system);
    expect(request?.system).toContain('"employeeRange"');
    expect(request?.system).toContain('JSON schema');
  });
});

const offlineLlm = () => createLlm({ providers: [createOfflineProvider()] });

describe('offline', () => {
  test("answers with the task's own offline object, marked offline with low confidence and no cost", async () => {
    const result = await offlineLlm().generateObject({ task: companyTask, context: { website: 'Globex makes turbines' }, prompt });
    expect(result).toEqual({
      object: { companyName: 'Globex', industries: ['unknown'], employeeRange: '1-10' },
      provider: 'offline',
      model: 'offline',
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      latencyMs: expect.any(Number),
      attempts: 0,
      cached: false,
      firstAttemptValid: true,
      repaired: false,
      confidence: 0.3,
    });
  });

  test('is deterministic: the same input gives the same output, across instances', async () => {
    const context = { website: 'Initech builds TPS report software for banks' };
    const first = await offlineLlm().generateObject({ task: companyTask, context, prompt });
    const second = await offlineLlm().generateObject({ task: companyTask, context, prompt });
    const third = await offlineLlm().generateObject({ task: companyTask, context: { website: 'Umbrella sells vaccines' }, prompt });
    expect(second.object).toEqual(first.object);
    expect(third.object).not.toEqual(first.object);
  });

  test('an offline answer that breaks the schema is refused, not passed on', async () => {
    const broken: LlmTask<Company, null> = { ...companyTask, name: 'broken', offline: () => ({ companyName: '', industries: [], employeeRange: '1-10' }) };
    await expect(offlineLlm().generateObject({ task: broken, context: null, prompt })).rejects.toMatchObject({
      code: 'LLM_UNAVAILABLE',
      failures: [{ provider: 'offline', error: { code: 'LLM_INVALID_OUTPUT' } }],
    });
  });

  test('free text uses offlineText, and without it says that no model is configured', async () => {
    const summary = { name: 'summary', version: '1', offlineText: (context: { website: string }) => context.website.split('.')[0] ?? '' };
    await expect(offlineLlm().generateText({ task: summary, context: { website: 'Acme sells anvils. Since 1950.' }, prompt })).resolves.toMatchObject({
      text: 'Acme sells anvils',
      provider: 'offline',
      confidence: 0.3,
    });
    const failure = await offlineLlm()
      .generateText({ task: { name: 'cold-email', version: '1' }, prompt })
      .catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ code: 'LLM_UNAVAILABLE', failures: [{ error: { code: 'LLM_NOT_CONFIGURED' } }] });
    expect((failure as Error).message).toContain('no language model is configured');
  });
});

describe('answerFromSchema (the default reply other services can use in end-to-end tests)', () => {
  test('answers each provider with an object the task schema accepts', async () => {
    openai.respondWith(answerFromSchema);
    anthropic.respondWith(answerFromSchema);
    const nested: LlmTask<unknown, null> = {
      name: 'nested',
      version: '1',
      schema: z.object({
        company: companySchema,
        website: z.url(),
        founded: z.number().int().min(1800).max(2100),
        tags: z.array(z.string().min(12)).min(3),
        contact: z.object({ email: z.email(), phone: z.string().nullable() }),
      }),
      offline: () => null,
    };
    const providers = [
      createOpenAiProvider({ apiKey: 'sk-test-openai-key', baseURL: openai.baseURL, model: 'gpt-5-mini' }),
      createOpenAiProvider({ apiKey: 'sk-test-openai-key', baseURL: openai.baseURL, model: 'gpt-5-mini', api: 'responses' }),
      createAnthropicProvider({ apiKey: 'sk-ant-test-key', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' }),
    ];
    for (const provider of providers) {
      const result = await createLlm({ providers: [provider] }).generateObject({ task: nested, context: null, prompt });
      expect(result).toMatchObject({ provider: provider.name, firstAttemptValid: true, object: { founded: 1800, company: { employeeRange: '1-10' } } });
    }
  });
});
