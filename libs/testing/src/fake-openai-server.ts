import { fakeId, flattenContent, startFakeLlmServer, type FakeLlmProtocol, type FakeLlmServer, type FakeLlmServerOptions } from './fake-llm-server.js';

// Error types and codes as api.openai.com sends them, so the SDK builds the same error classes.
const errorShapes: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist or you do not have access to it.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests. Please try again later.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request. Sorry about that!' },
  502: { type: 'server_error', code: null, message: 'Bad gateway.' },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later.' },
};

function systemOf(messages: any[]): string | undefined {
  const system = messages.filter((message) => message?.role === 'system' || message?.role === 'developer').map((message) => flattenContent(message.content));
  return system.length > 0 ? system.join('\n') : undefined;
}

const openAiProtocol: FakeLlmProtocol = {
  basePath: '/v1',
  routes: { '/v1/chat/completions': 'chat.completions', '/v1/responses': 'responses' },

  apiKeyOf: (headers) => headers.authorization?.replace(/^Bearer /, ''),

  parse(endpoint, body) {
    if (endpoint === 'responses') {
      const input: any[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input : [];
      const instructions = [body.instructions, systemOf(input)].filter((part): part is string => typeof part === 'string');
      const messages = input
        .filter((item) => item?.role !== 'system' && item?.role !== 'developer')
        .map((item) => ({ role: String(item?.role ?? item?.type ?? 'user'), content: flattenContent(item?.content ?? item?.output ?? '') }));
      const format = body.text?.format;
      return {
        model: String(body.model ?? ''),
        system: instructions.length > 0 ? instructions.join('\n') : undefined,
        messages,
        prompt: messages.findLast((message) => message.role === 'user')?.content ?? '',
        schema: format?.type === 'json_schema' ? format.schema : undefined,
      };
    }
    const all: any[] = Array.isArray(body.messages) ? body.messages : [];
    const messages = all
      .filter((message) => message?.role !== 'system' && message?.role !== 'developer')
      .map((message) => ({ role: String(message?.role), content: flattenContent(message?.content) }));
    const format = body.response_format;
    return {
      model: String(body.model ?? ''),
      system: systemOf(all),
      messages,
      prompt: messages.findLast((message) => message.role === 'user')?.content ?? '',
      schema: format?.type === 'json_schema' ? format.json_schema?.schema : undefined,
    };
  },

  success(endpoint, request, output, model) {
    const created = Math.floor(Date.now() / 1000);
    const { inputTokens, outputTokens } = output.usage;
    if (endpoint === 'responses') {
      const content =
        output.kind === 'refusal' ? [{ type: 'refusal', refusal: output.text }] : [{ type: 'output_text', text: output.text, annotations: [], logprobs: [] }];
      return {
        id: fakeId('resp_'),
        object: 'response',
        created_at: created,
        status: 'completed',
        error: null,
        incomplete_details: null,
        instructions: request.body.instructions ?? null,
        max_output_tokens: request.body.max_output_tokens ?? null,
        model,
        output: [{ type: 'message', id: fakeId('msg_'), status: 'completed', role: 'assistant', content }],
        parallel_tool_calls: true,
        previous_response_id: null,
        reasoning: { effort: null, summary: null },
        store: request.body.store ?? true,
        temperature: request.body.temperature ?? 1,
        text: request.body.text ?? { format: { type: 'text' } },
        tool_choice: 'auto',
        tools: [],
        top_p: 1,
        truncation: 'disabled',
        usage: {
          input_tokens: inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: inputTokens + outputTokens,
        },
        metadata: {},
      };
    }
    return {
      id: fakeId('chatcmpl-'),
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: output.kind === 'refusal' ? null : output.text,
            refusal: output.kind === 'refusal' ? output.text : null,
            annotations: [],
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: inputTokens,
        completion_tokens: outputTokens,
        total_tokens: inputTokens + outputTokens,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
    };
  },

  error(status, message) {
    const shape = errorShapes[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null, message: `HTTP ${status}` };
    return { body: { error: { message: message ?? shape.message, type: shape.type, param: null, code: shape.code } } };
  },
};

/**
 * A local server speaking OpenAI's wire protocol: `POST /v1/chat/completions` and `POST /v1/responses`,
 * with `usage` in every answer and OpenAI-shaped error bodies. Point the real `openai` SDK at
 * `server.baseURL`. Script it per request with `enqueue(...)` and `respondWith(...)`.
 */
export function startFakeOpenAiServer(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
  return startFakeLlmServer(openAiProtocol, options);
}
