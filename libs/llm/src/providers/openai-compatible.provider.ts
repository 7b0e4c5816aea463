import type { LlmPrice, LlmProvider } from '../llm.types.js';
import { createChatCompletionsModel, createOpenAiClient } from './openai.provider.js';

export interface OpenAiCompatibleProviderSettings {
  /** The server's OpenAI-style base URL, e.g. `http://localhost:11434/v1` (Ollama), `http://localhost:8000/v1` (vLLM), `http://localhost:1234/v1` (LM Studio). */
  baseURL: string;
  model: string;
  /** Most local servers need none. Default: a placeholder the SDK requires. */
  apiKey?: string;
  /**
   * `json_schema`: the server enforces the schema (Ollama ≥ 0.5, vLLM, LM Studio). `json_object`:
   * JSON mode only, with the schema in the system instructions, for servers without schema
   * support. Either way the layer validates and repairs the answer. Default: `json_schema`.
   */
  responseFormat?: 'json_schema' | 'json_object';
  /** Name in cache keys, metrics and `result.provider`. Default: `openai-compatible`. */
  name?: string;
  /** What a token costs on this server. Default: free (self-hosted); `LLM_PRICES` entries for the model win. */
  price?: LlmPrice;
  /** Longest HTTP request the SDK allows. Default: 600 000. */
  sdkTimeoutMs?: number;
}

/** Any server speaking OpenAI's Chat Completions protocol, through the official `openai` SDK. */
export function createOpenAiCompatibleProvider(settings: OpenAiCompatibleProviderSettings): LlmProvider {
  const apiKey = settings.apiKey ?? 'not-needed';
  return createChatCompletionsModel({
    client: createOpenAiClient({ apiKey, baseURL: settings.baseURL, sdkTimeoutMs: settings.sdkTimeoutMs }),
    name: settings.name ?? 'openai-compatible',
    model: settings.model,
    responseFormat: settings.responseFormat ?? 'json_schema',
    maxTokensField: 'max_tokens',
    secrets: settings.apiKey ? [settings.apiKey] : [],
    defaultPrice: settings.price ?? { inputPerMillion: 0, outputPerMillion: 0 },
  });
}
