import type { z } from 'zod';

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

/**
 * One kind of structured answer, owned by the service that uses it. The version is part of the
 * cache key and is stored with every generated asset, so changing a prompt means bumping it.
 */
export interface LlmTask<Output, Context = unknown> {
  name: string;
  version: string;
  schema: z.ZodType<Output>;
  /** Default system instructions; a request's own `system` wins. */
  system?: string;
  /**
   * The deterministic, extractive answer built from the input alone, used by the offline provider
   * (no API key, or every model failed). It is marked `offline` with low confidence, never as AI.
   */
  offline(context: Context): Output;
}

/** A free-text task. Without `offlineText`, the offline provider cannot answer it. */
export interface LlmTextTask<Context = unknown> {
  name: string;
  version: string;
  system?: string;
  offlineText?(context: Context): string;
}

/** Who a call is made for, handed back on its usage records so a service can meter per tenant. */
export interface LlmAttribution {
  tenantId: string;
  keyId?: string | null;
  requestId?: string | null;
}

interface LlmRequestOptions {
  /** Passed through to `onUsage` on every record this call causes. Default: none. */
  attribution?: LlmAttribution;
  /** Overrides the task's `system`. */
  system?: string;
  prompt: string;
  /** Sent only when given: some models accept only their default. */
  temperature?: number;
  maxOutputTokens?: number;
  signal?: AbortSignal;
  /** Skip the cache read and the single-flight join; the fresh answer still replaces the cached one. */
  bypassCache?: boolean;
}

export interface GenerateObjectRequest<Output, Context> extends LlmRequestOptions {
  task: LlmTask<Output, Context>;
  /** What the task's `offline(context)` builds its answer from. */
  context: Context;
}

export interface GenerateTextRequest<Context> extends LlmRequestOptions {
  task: LlmTextTask<Context>;
  context?: Context;
}

interface LlmResultCommon {
  /** The provider that answered (`offline` for the offline provider). */
  provider: string;
  model: string;
  /** Tokens of every upstream call this request made (zero when cached). */
  usage: LlmUsage;
  /** What this request cost in USD, from the price table (zero when cached or offline). */
  costUsd: number;
  latencyMs: number;
  /** Upstream calls made: retries, corrective re-asks and failed providers included. */
  attempts: number;
  /** Answered from the cache, or by joining an identical call already in flight. */
  cached: boolean;
  /** Set by the offline provider (low, e.g. 0.3) so callers never present its answer as AI. */
  confidence?: number;
}

export interface GenerateObjectResult<Output> extends LlmResultCommon {
  object: Output;
  /** The first answer matched the schema as it was, without repair or a corrective re-ask. */
  firstAttemptValid: boolean;
  /** The accepted answer needed JSON extraction or repair. */
  repaired: boolean;
}

export interface GenerateTextResult extends LlmResultCommon {
  text: string;
}

export interface Llm {
  generateObject<Output, Context>(request: GenerateObjectRequest<Output, Context>): Promise<GenerateObjectResult<Output>>;
  generateText<Context>(request: GenerateTextRequest<Context>): Promise<GenerateTextResult>;
  /** Each provider in failover order with its circuit state, for health pages. */
  providerStates(): LlmProviderState[];
}

export interface LlmProviderState {
  provider: string;
  model: string;
  circuit: 'closed' | 'open' | 'half-open' | 'not-applicable';
}

/** What a service persists per upstream call (and per cache hit) through `onUsage`. */
export interface LlmUsageRecord {
  id: string;
  task: string;
  taskVersion: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  cached: boolean;
  outcome: 'ok' | 'invalid_output' | 'error';
  at: Date;
  /** The request's `attribution`, when it gave one. */
  attribution?: LlmAttribution;
}

// ---- The provider interface: what a factory such as createOpenAiProvider returns. ----

/** A turn replayed to the model, e.g. its own invalid answer before a corrective re-ask. */
export type LlmMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCall?: { id: string; name: string; input: unknown } }
  /** The answer to a tool call (Anthropic requires one after every `tool_use`). */
  | { role: 'tool-result'; toolCallId: string; content: string; isError: boolean };

/** The JSON schema a provider sends, derived once per zod schema. */
export interface LlmOutputSchema {
  /** `^[a-zA-Z0-9_-]{1,64}$`, as OpenAI and Anthropic require. */
  name: string;
  jsonSchema: Record<string, unknown>;
  /** Whether the schema meets OpenAI's strict mode rules (every property required, objects closed). */
  strict: boolean;
}

export interface LlmProviderCall {
  mode: 'object' | 'text';
  system?: string;
  messages: LlmMessage[];
  /** Present in object mode. */
  schema?: LlmOutputSchema;
  temperature?: number;
  maxOutputTokens?: number;
  signal: AbortSignal;
  /** The offline provider answers from these; model providers ignore them. */
  task: { name: string; version: string; offline?: (context: any) => unknown; offlineText?: (context: any) => string };
  context?: unknown;
}

export interface LlmProviderResponse {
  /** The model's raw text; for a tool answer, the JSON of its input. */
  text: string;
  /** Structured output the protocol already delivered parsed (a tool's input, the offline object). */
  object?: unknown;
  usage: LlmUsage;
  /** The model the server says answered, e.g. a dated snapshot of the configured one. */
  model: string;
  /** The assistant turn to replay in a corrective re-ask. */
  assistantMessage: LlmMessage;
}

/** USD per million tokens. */
export interface LlmPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/**
 * A model behind one wire protocol: a narrow interface in the manner of the AI SDK's language
 * models. Resilience, validation, caching and metering live in the layer around it, once.
 */
export interface LlmProvider {
  /** `openai`, `anthropic`, `openai-compatible`, `offline`, or a custom name. Used in cache keys and metrics. */
  readonly name: string;
  readonly model: string;
  /** Runs in-process (offline): no timeout, retry, breaker, cache or price. */
  readonly local?: boolean;
  /** Confidence reported with every answer of this provider. */
  readonly confidence?: number;
  /** Price when the price table has no entry for the model (self-hosted servers: zero). */
  readonly defaultPrice?: LlmPrice;
  generate(call: LlmProviderCall): Promise<LlmProviderResponse>;
}
