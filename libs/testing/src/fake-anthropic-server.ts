import { fakeId, flattenContent, startFakeLlmServer, type FakeLlmProtocol, type FakeLlmServer, type FakeLlmServerOptions } from './fake-llm-server.js';

// Error types as api.anthropic.com sends them (`{"type":"error","error":{"type":…,"message":…}}`).
const errorTypes: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'The requested resource could not be found.' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit.' },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

/** The tool the request forces, or its only tool. */
function forcedTool(body: any): any | undefined {
  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  if (body.tool_choice?.type === 'tool') return tools.find((tool) => tool?.name === body.tool_choice.name);
  return tools.length === 1 ? tools[0] : undefined;
}

const anthropicProtocol: FakeLlmProtocol = {
  basePath: '',
  routes: { '/v1/messages': 'messages' },

  // The API takes `x-api-key`; recent SDKs send the key as a bearer token instead.
  apiKeyOf: (headers) => (headers['x-api-key'] as string | undefined) ?? headers.authorization?.replace(/^Bearer /, ''),

  parse(_endpoint, body) {
    const messages: { role: string; content: string }[] = (Array.isArray(body.messages) ? body.messages : []).map((message: any) => ({
      role: String(message?.role),
      content: flattenContent(message?.content),
    }));
    const schema = forcedTool(body)?.input_schema ?? (body.output_config?.format?.type === 'json_schema' ? body.output_config.format.schema : undefined);
    return {
      model: String(body.model ?? ''),
      system: body.system === undefined ? undefined : flattenContent(body.system),
      messages,
      prompt: messages.findLast((message) => message.role === 'user')?.content ?? '',
      schema,
    };
  },

  success(_endpoint, request, output, model) {
    const tool = forcedTool(request.body);
    let content: unknown[];
    let stopReason: string;
    if (output.kind === 'refusal') {
      content = [{ type: 'text', text: output.text, citations: null }];
      stopReason = 'refusal';
    } else if (output.kind === 'json' && tool) {
      content = [{ type: 'tool_use', id: fakeId('toolu_'), name: tool.name, input: output.value }];
      stopReason = 'tool_use';
    } else {
      content = [{ type: 'text', text: output.text, citations: null }];
      stopReason = 'end_turn';
    }
    return {
      id: fakeId('msg_'),
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: output.usage.inputTokens,
        output_tokens: output.usage.outputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        service_tier: 'standard',
      },
    };
  },

  error(status, message) {
    const shape = errorTypes[status] ?? { type: status >= 500 ? 'api_error' : 'invalid_request_error', message: `HTTP ${status}` };
    return { body: { type: 'error', error: { type: shape.type, message: message ?? shape.message }, request_id: fakeId('req_') } };
  },
};

/**
 * A local server speaking Anthropic's Messages protocol: `POST /v1/messages`, answering a forced
 * tool with a `tool_use` block (otherwise with text), `usage` in every answer and Anthropic-shaped
 * error bodies. Point the real `@anthropic-ai/sdk` at `server.baseURL`.
 */
export function startFakeAnthropicServer(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
  return startFakeLlmServer(anthropicProtocol, options);
}
