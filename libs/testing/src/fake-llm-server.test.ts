import { describe, expect, test } from '@jest/globals';
import { startFakeAnthropicServer } from './fake-anthropic-server.js';
import { startFakeOpenAiServer } from './fake-openai-server.js';

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const chatBody = {
  model: 'gpt-test',
  messages: [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
  ],
  response_format: { type: 'json_schema', json_schema: { name: 'greeting', schema: { type: 'object' }, strict: true } },
};

describe('fake OpenAI server', () => {
  test('records each request with its parsed prompt, system and schema, and plays the queue before the default', async () => {
    await using server = await startFakeOpenAiServer({ respond: { text: 'default' } });
    server.enqueue({ json: { greeting: 'queued' }, usage: { inputTokens: 7, outputTokens: 3 } });

    const first = (await (await post(`${server.baseURL}/chat/completions`, chatBody)).json()) as any;
    const second = (await (await post(`${server.baseURL}/chat/completions`, chatBody)).json()) as any;

    expect(first).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '{"greeting":"queued"}', refusal: null } }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
    expect(second.choices[0].message.content).toBe('default');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]).toMatchObject({ index: 0, endpoint: 'chat.completions', model: 'gpt-test', system: 'Be terse.', prompt: 'Hello', schema: { type: 'object' } });
  });

  test('errors carry OpenAI’s error body and Retry-After headers', async () => {
    await using server = await startFakeOpenAiServer({ respond: { status: 429, retryAfterSeconds: 2, retryAfterMs: 1500 } });
    const response = await post(`${server.baseURL}/chat/completions`, chatBody);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('retry-after-ms')).toBe('1500');
    expect(await response.json()).toEqual({ error: { message: expect.any(String), type: 'requests', param: null, code: 'rate_limit_exceeded' } });
  });

  test('the Responses endpoint answers with output_text or a refusal part', async () => {
    await using server = await startFakeOpenAiServer();
    server.enqueue({ text: 'hi' }, { refusal: 'no' });
    const body = { model: 'gpt-test', instructions: 'Be terse.', input: 'Hello', text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } } };
    const answered = (await (await post(`${server.baseURL}/responses`, body)).json()) as any;
    const refused = (await (await post(`${server.baseURL}/responses`, body)).json()) as any;
    expect(answered).toMatchObject({ object: 'response', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }] });
    expect(refused.output[0].content).toEqual([{ type: 'refusal', refusal: 'no' }]);
    expect(server.requests[0]).toMatchObject({ endpoint: 'responses', system: 'Be terse.', prompt: 'Hello', schema: { type: 'object' } });
  });

  test('a wrong key gets a 401 when the server is given one; unknown routes a 404', async () => {
    await using server = await startFakeOpenAiServer({ apiKey: 'right', respond: { text: 'ok' } });
    expect((await post(`${server.baseURL}/chat/completions`, chatBody, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${server.baseURL}/chat/completions`, chatBody, { authorization: 'Bearer right' })).status).toBe(200);
    expect((await post(`${server.baseURL}/embeddings`, {})).status).toBe(404);
  });

  test('a disconnect reply drops the connection, and close() does not wait for a slow reply', async () => {
    const server = await startFakeOpenAiServer();
    server.enqueue({ disconnect: true }, { text: 'late', delayMs: 120_000 });
    await expect(post(`${server.baseURL}/chat/completions`, chatBody)).rejects.toThrow();
    const slow = post(`${server.baseURL}/chat/completions`, chatBody);
    while (server.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await server.close();
    await expect(slow).rejects.toThrow();
  });
});

describe('fake Anthropic server', () => {
  test('answers a forced tool with a tool_use block, and errors with Anthropic’s body', async () => {
    await using server = await startFakeAnthropicServer();
    server.enqueue((request) => ({ json: { echoed: request.prompt } }), { status: 529 });
    const body = {
      model: 'claude-test',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be terse.' }],
      messages: [{ role: 'user', content: 'Hello' }],
      tools: [{ name: 'record', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'record' },
    };
    const answered = (await (await post(`${server.url}/v1/messages`, body, { 'x-api-key': 'k' })).json()) as any;
    expect(answered).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'record', input: { echoed: 'Hello' } }],
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
    });
    const overloaded = await post(`${server.url}/v1/messages`, body);
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(server.requests[0]).toMatchObject({ system: 'Be terse.', prompt: 'Hello', schema: { type: 'object' }, apiKey: 'k' });
  });
});
