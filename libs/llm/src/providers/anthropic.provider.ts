import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { LlmRefusalError } from '../llm.errors.js';
import type { LlmProvider, LlmProviderCall, LlmProviderResponse } from '../llm.types.js';
import { createPooledFetch } from './pooled-fetch.js';
import { toLlmError } from './provider-errors.js';

const anthropicErrors = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };

export interface AnthropicProviderSettings {
  apiKey: string;
  /** Default: `https://api.anthropic.com` (the environment is read by config.ts, not here). */
  baseURL?: string;
  /** e.g. `claude-haiku-4-5`. */
  model: string;
  /**
   * `tool`: one tool whose `input_schema` is the task's schema, forced with `tool_choice`; every
   * Claude model supports it. `native`: `output_config.format` (structured outputs), where the
   * model supports it. Default: `tool`.
   */
  structuredOutput?: 'tool' | 'native';
  /** `max_tokens` when a request sets none (the Messages API requires one). Default: 4096. */
  defaultMaxOutputTokens?: number;
  /** Name in cache keys, metrics and `result.provider`. Default: `anthropic`. */
  name?: string;
  /** Longest HTTP request the SDK allows. Default: 600 000. */
  sdkTimeoutMs?: number;
}

function asMessages(call: LlmProviderCall): MessageParam[] {
  return call.messages.map((message): MessageParam => {
    if (message.role === 'tool-result') {
      return { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content, is_error: message.isError }] };
    }
    if (message.role === 'assistant' && message.toolCall) {
      return { role: 'assistant', content: [{ type: 'tool_use', id: message.toolCall.id, name: message.toolCall.name, input: message.toolCall.input }] };
    }
    return { role: message.role, content: message.content };
  });
}

/** Anthropic through the official SDK (Messages API). */
export function createAnthropicProvider(settings: AnthropicProviderSettings): LlmProvider {
  const client = new Anthropic({
    apiKey: settings.apiKey,
    authToken: null,
    webhookKey: null,
    baseURL: settings.baseURL ?? 'https://api.anthropic.com',
    // cockatiel is the one retry policy.
    maxRetries: 0,
    timeout: settings.sdkTimeoutMs ?? 600_000,
    fetch: createPooledFetch(),
  });
  const name = settings.name ?? 'anthropic';
  const { model } = settings;
  const details = { provider: name, model };
  const mode = settings.structuredOutput ?? 'tool';

  return {
    name,
    model,
    async generate(call): Promise<LlmProviderResponse> {
      const body: MessageCreateParamsNonStreaming = {
        model,
        max_tokens: call.maxOutputTokens ?? settings.defaultMaxOutputTokens ?? 4096,
        messages: asMessages(call),
      };
      if (call.system) body.system = call.system;
      // No `temperature`: the Messages API of this SDK version no longer takes one.
      const schema = call.mode === 'object' ? call.schema : undefined;
      if (schema && mode === 'tool') {
        body.tools = [{ name: schema.name, description: 'Record the answer as structured data matching the input schema.', input_schema: schema.jsonSchema as { type: 'object' } }];
        body.tool_choice = { type: 'tool', name: schema.name };
      } else if (schema) {
        body.output_config = { format: { type: 'json_schema', schema: schema.jsonSchema } };
      }

      let message;
      try {
        message = await client.messages.create(body, { signal: call.signal });
      } catch (error) {
        throw toLlmError(error, anthropicErrors, details, [settings.apiKey]);
      }
      const usage = { inputTokens: message.usage?.input_tokens ?? 0, outputTokens: message.usage?.output_tokens ?? 0 };
      const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      if (message.stop_reason === 'refusal') throw new LlmRefusalError(`the model refused${text ? `: ${text.slice(0, 200)}` : ''}`, text, { ...details, usage });
      const toolUse = schema ? message.content.find((block) => block.type === 'tool_use' && block.name === schema.name) : undefined;
      if (toolUse && toolUse.type === 'tool_use') {
        return {
          text: JSON.stringify(toolUse.input),
          object: toolUse.input,
          usage,
          model: message.model || model,
          assistantMessage: { role: 'assistant', content: '', toolCall: { id: toolUse.id, name: toolUse.name, input: toolUse.input } },
        };
      }
      return { text, usage, model: message.model || model, assistantMessage: { role: 'assistant', content: text } };
    },
  };
}
