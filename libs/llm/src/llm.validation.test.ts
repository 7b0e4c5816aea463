import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { startFakeAnthropicServer, startFakeOpenAiServer, type FakeLlmServer } from '@gtm/testing';
import { z } from 'zod';
import { createLlm } from './llm.js';
import { LlmInvalidOutputError, type LlmUnavailableError } from './llm.errors.js';
import type { LlmTask, LlmUsageRecord } from './llm.types.js';
import { createAnthropicProvider } from './providers/anthropic.provider.js';
import { createOfflineProvider } from './providers/offline.provider.js';
import { createOpenAiProvider } from './providers/openai.provider.js';

const personaSchema = z.object({
  title: z.string().min(3),
  seniority: z.enum(['individual', 'manager', 'director', 'executive']),
  painPoints: z.array(z.string()).min(2),
});
type Persona = z.infer<typeof personaSchema>;
const personaTask: LlmTask<Persona, { title: string }> = {
  name: 'target-persona',
  version: '1',
  schema: personaSchema,
  offline: ({ title }) => ({ title, seniority: 'manager', painPoints: ['unknown', 'unknown'] }),
};
const persona: Persona = { title: 'Head of Sales Operations', seniority: 'director', painPoints: ['manual CRM hygiene', 'slow lead routing'] };
const request = { task: personaTask, context: { title: 'Sales Manager' }, prompt: 'Describe the buyer persona for Acme.' };

let openai: FakeLlmServer;
let anthropic: FakeLlmServer;
beforeAll(async () => {
  openai = await startFakeOpenAiServer();
  anthropic = await startFakeAnthropicServer();
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});
beforeEach(() => {
  openai.reset();
  anthropic.reset();
});

const openAiProvider = () => createOpenAiProvider({ apiKey: 'sk-test', baseURL: openai.baseURL, model: 'gpt-5-mini' });

describe('repair without a second call', () => {
  test.each([
    ['fenced JSON inside prose', `Here you go:\n\`\`\`json\n${JSON.stringify(persona, null, 2)}\n\`\`\``],
    ['JSON inside a sentence', `The persona is ${JSON.stringify(persona)}. Hope this helps!`],
    ['broken JSON (trailing comma, single quotes)', `{'title': 'Head of Sales Operations', 'seniority': 'director', 'painPoints': ['manual CRM hygiene', 'slow lead routing',],}`],
  ])('%s is repaired: one request, not first-attempt-valid', async (_case, text) => {
    openai.respondWith({ text });
    const result = await createLlm({ providers: [openAiProvider()] }).generateObject(request);
    expect(result).toMatchObject({ object: persona, provider: 'openai', repaired: true, firstAttemptValid: false, attempts: 1 });
    expect(openai.requests).toHaveLength(1);
  });
});

describe('one corrective re-ask', () => {
  test('a schema-invalid answer is asked again with the validation errors, and the second answer wins', async () => {
    openai.enqueue({ json: { title: 'VP', seniority: 'boss', painPoints: ['one'] } }, { json: persona });
    const usage: LlmUsageRecord[] = [];
    const result = await createLlm({ providers: [openAiProvider()], onUsage: (record) => void usage.push(record) }).generateObject(request);

    expect(result).toMatchObject({ object: persona, firstAttemptValid: false, repaired: false, attempts: 2 });
    expect(openai.requests).toHaveLength(2);
    const [first, second] = openai.requests;
    // The re-ask replays the conversation: the prompt, the model's own answer, then the errors.
    expect(second?.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(second?.messages[0]?.content).toBe(request.prompt);
    expect(second?.messages[1]?.content).toBe(JSON.stringify({ title: 'VP', seniority: 'boss', painPoints: ['one'] }));
    const correction = second?.prompt ?? '';
    expect(correction).toContain('title: ');
    expect(correction).toContain('seniority: ');
    expect(correction).toContain('painPoints: ');
    expect(second?.schema).toEqual(first?.schema);
    // Both calls were billed: one invalid, one ok.
    expect(usage.map((record) => record.outcome)).toEqual(['invalid_output', 'ok']);
    expect(result.usage.inputTokens).toBe(usage[0]!.inputTokens + usage[1]!.inputTokens);
  });

  test('with Anthropic the re-ask answers the tool call with an error tool_result', async () => {
    anthropic.enqueue({ json: { title: 'VP' } }, { json: persona });
    const llm = createLlm({ providers: [createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' })] });
    const result = await llm.generateObject(request);

    expect(result.object).toEqual(persona);
    const second = anthropic.requests[1]?.body;
    expect(second.messages).toHaveLength(3);
    expect(second.messages[1]).toMatchObject({ role: 'assistant', content: [{ type: 'tool_use', name: 'target-persona', input: { title: 'VP' } }] });
    const toolUseId = second.messages[1].content[0].id;
    expect(second.messages[2]).toMatchObject({ role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUseId, is_error: true }] });
    expect(second.messages[2].content[0].content).toContain('seniority: ');
    expect(second.tool_choice).toEqual({ type: 'tool', name: 'target-persona' });
  });

  test('two invalid answers fail over to the next provider, and only one re-ask is made', async () => {
    openai.respondWith({ text: 'I think the persona is a sales leader.' });
    anthropic.respondWith({ json: persona });
    const llm = createLlm({
      providers: [openAiProvider(), createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL: anthropic.baseURL, model: 'claude-haiku-4-5' })],
    });
    const result = await llm.generateObject(request);
    expect(result).toMatchObject({ object: persona, provider: 'anthropic', attempts: 3, firstAttemptValid: true });
    expect(openai.requests).toHaveLength(2);
    expect(anthropic.requests).toHaveLength(1);
  });

  test('with every model invalid the offline answer is the last resort, marked as such', async () => {
    openai.respondWith({ json: { title: 'x' } });
    const result = await createLlm({ providers: [openAiProvider(), createOfflineProvider()] }).generateObject(request);
    expect(result).toMatchObject({ provider: 'offline', confidence: 0.3, object: { title: 'Sales Manager', seniority: 'manager' } });
    expect(openai.requests).toHaveLength(2);
  });

  test('without a fallback the error carries every validation issue', async () => {
    openai.respondWith({ json: { title: 'x', seniority: 'boss', painPoints: [] } });
    const failure = await createLlm({ providers: [openAiProvider()] })
      .generateObject(request)
      .then(
        () => undefined,
        (error: unknown) => error as LlmUnavailableError,
      );
    const cause = failure?.failures[0]?.error;
    expect(cause).toBeInstanceOf(LlmInvalidOutputError);
    expect((cause as LlmInvalidOutputError).issues).toHaveLength(3);
  });
});
