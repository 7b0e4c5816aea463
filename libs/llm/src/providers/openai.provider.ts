import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseCreateParamsNonStreaming, ResponseInputItem } from 'openai/resources/responses/responses';
import { LlmProviderError, LlmRefusalError } from '../llm.errors.js';
import type { LlmPrice, LlmProvider, LlmProviderCall, LlmProviderResponse } from '../llm.types.js';
import { schemaInstruction } from '../output-schema.js';
import { createPooledFetch } from './pooled-fetch.js';
import { toLlmError } from './provider-errors.js';

const openAiErrors = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };

export interface OpenAiProviderSettings {
  apiKey: string;
  /** Default: `https://api.openai.com/v1` (the OPENAI_BASE_URL variable is not read here; config.ts reads the environment). */
  baseURL?: string;
  /** e.g. `gpt-5-mini`. */
  model: string;
  /**
   * `chat`: Chat Completions with `response_format: json_schema`. `responses`: the Responses API
   * with `text.format: json_schema`. Default: `chat`, which every OpenAI-compatible server speaks too.
   */
  api?: 'chat' | 'responses';
  /** Name in cache keys, metrics and `result.provider`. Default: `openai`. */
  name?: string;
  organization?: string;
  /** Longest HTTP request the SDK allows; the layer's own timeout is normally shorter. Default: 600 000. */
  sdkTimeoutMs?: number;
}

/** Settings shared with the OpenAI-compatible provider. */
interface ChatModelSettings {
  client: OpenAI;
  name: string;
  model: string;
  /** `json_schema` (structured outputs) or `json_object` (JSON mode, schema in the instructions). */
  responseFormat: 'json_schema' | 'json_object';
  /** OpenAI names it `max_completion_tokens`; most compatible servers only know `max_tokens`. */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  secrets: readonly string[];
  defaultPrice?: LlmPrice;
}

export function createOpenAiClient(settings: { apiKey: string; baseURL: string; organization?: string; sdkTimeoutMs?: number }): OpenAI {
  return new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    organization: settings.organization ?? null,
    project: null,
    // cockatiel is the one retry policy: the SDK's own retries would multiply its attempts.
    maxRetries: 0,
    timeout: settings.sdkTimeoutMs ?? 600_000,
    fetch: createPooledFetch(),
  });
}

/** Text of a replayed turn for protocols without tool results (Chat Completions, Responses). */
function asChatMessages(call: LlmProviderCall, system: string | undefined): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = system ? [{ role: 'system', content: system }] : [];
  for (const message of call.messages) {
    if (message.role === 'assistant') messages.push({ role: 'assistant', content: message.toolCall ? JSON.stringify(message.toolCall.input) : message.content });
    else messages.push({ role: 'user', content: message.content });
  }
  return messages;
}

/** A Chat Completions model: used by the OpenAI provider and every OpenAI-compatible server. */
export function createChatCompletionsModel(settings: ChatModelSettings): LlmProvider {
  const { client, name, model } = settings;
  const details = { provider: name, model };
  return {
    name,
    model,
    ...(settings.defaultPrice ? { defaultPrice: settings.defaultPrice } : {}),
    async generate(call): Promise<LlmProviderResponse> {
      const jsonMode = call.mode === 'object' && call.schema && settings.responseFormat === 'json_object';
      const system = jsonMode && call.schema ? [call.system, schemaInstruction(call.schema)].filter(Boolean).join('\n\n') : call.system;
      const body: ChatCompletionCreateParamsNonStreaming = { model, messages: asChatMessages(call, system) };
      if (call.temperature !== undefined) body.temperature = call.temperature;
      if (call.maxOutputTokens !== undefined) body[settings.maxTokensField] = call.maxOutputTokens;
      if (call.mode === 'object' && call.schema) {
        body.response_format = jsonMode
          ? { type: 'json_object' }
          : { type: 'json_schema', json_schema: { name: call.schema.name, schema: call.schema.jsonSchema, strict: call.schema.strict } };
      }
      let completion;
      try {
        completion = await client.chat.completions.create(body, { signal: call.signal });
      } catch (error) {
        throw toLlmError(error, openAiErrors, details, settings.secrets);
      }
      const usage = { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 };
      const choice = completion.choices[0];
      if (!choice) throw new LlmProviderError('the completion has no choices', 200, true, { ...details, usage });
      if (choice.message.refusal) throw new LlmRefusalError(`the model refused: ${choice.message.refusal.slice(0, 200)}`, choice.message.refusal, { ...details, usage });
      if (choice.finish_reason === 'content_filter') throw new LlmRefusalError('the answer was stopped by the content filter', 'content_filter', { ...details, usage });
      const text = choice.message.content ?? '';
      return { text, usage, model: completion.model || model, assistantMessage: { role: 'assistant', content: text } };
    },
  };
}

function createResponsesModel(settings: { client: OpenAI; name: string; model: string; secrets: readonly string[] }): LlmProvider {
  const { client, name, model } = settings;
  const details = { provider: name, model };
  return {
    name,
    model,
    async generate(call): Promise<LlmProviderResponse> {
      const input: ResponseInputItem[] = call.messages.map((message) =>
        message.role === 'assistant'
          ? { role: 'assistant', content: message.toolCall ? JSON.stringify(message.toolCall.input) : message.content }
          : { role: 'user', content: message.content },
      );
      // Nothing is stored on OpenAI's side: every call carries its whole context.
      const body: ResponseCreateParamsNonStreaming = { model, input, store: false };
      if (call.system) body.instructions = call.system;
      if (call.temperature !== undefined) body.temperature = call.temperature;
      if (call.maxOutputTokens !== undefined) body.max_output_tokens = call.maxOutputTokens;
      if (call.mode === 'object' && call.schema) {
        body.text = { format: { type: 'json_schema', name: call.schema.name, schema: call.schema.jsonSchema, strict: call.schema.strict } };
      }
      let response;
      try {
        response = await client.responses.create(body, { signal: call.signal });
      } catch (error) {
        throw toLlmError(error, openAiErrors, details, settings.secrets);
      }
      const usage = { inputTokens: response.usage?.input_tokens ?? 0, outputTokens: response.usage?.output_tokens ?? 0 };
      let text = '';
      let refusal: string | undefined;
      for (const item of response.output ?? []) {
        if (item.type !== 'message') continue;
        for (const part of item.content) {
          if (part.type === 'output_text') text += part.text;
          else if (part.type === 'refusal') refusal = (refusal ?? '') + part.refusal;
        }
      }
      if (refusal !== undefined && text === '') throw new LlmRefusalError(`the model refused: ${refusal.slice(0, 200)}`, refusal, { ...details, usage });
      if (response.status === 'failed') throw new LlmProviderError(`the response failed: ${response.error?.message ?? 'no reason given'}`, 200, true, { ...details, usage });
      return { text, usage, model: response.model || model, assistantMessage: { role: 'assistant', content: text } };
    },
  };
}

/** OpenAI through the official SDK: structured outputs with the task's JSON schema. */
export function createOpenAiProvider(settings: OpenAiProviderSettings): LlmProvider {
  const client = createOpenAiClient({ apiKey: settings.apiKey, baseURL: settings.baseURL ?? 'https://api.openai.com/v1', organization: settings.organization, sdkTimeoutMs: settings.sdkTimeoutMs });
  const name = settings.name ?? 'openai';
  const secrets = [settings.apiKey];
  if (settings.api === 'responses') return createResponsesModel({ client, name, model: settings.model, secrets });
  return createChatCompletionsModel({ client, name, model: settings.model, responseFormat: 'json_schema', maxTokensField: 'max_completion_tokens', secrets });
}
