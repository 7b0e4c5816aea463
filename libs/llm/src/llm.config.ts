import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { createLlm } from './llm.js';
import type { LlmLogger } from './llm.logger.js';
import type { Llm, LlmProvider, LlmUsageRecord } from './llm.types.js';
import type { LlmPriceTable } from './price-table.js';
import { createAnthropicProvider } from './providers/anthropic.provider.js';
import { createOfflineProvider } from './providers/offline.provider.js';
import { createOpenAiCompatibleProvider } from './providers/openai-compatible.provider.js';
import { createOpenAiProvider } from './providers/openai.provider.js';

export const llmProviderNames = ['openai', 'anthropic', 'openai-compatible', 'offline'] as const;
export type LlmProviderName = (typeof llmProviderNames)[number];

const httpUrl = z.string().refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s):// URL');
const positiveInteger = (minimum: number, maximum: number, fallback: number) => z.coerce.number().int().min(minimum).max(maximum).default(fallback);

const pricesSchema = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON such as {"gpt-5-mini":{"input":0.25,"output":2}} (USD per million tokens)' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1), z.object({ input: z.number().min(0), output: z.number().min(0) })))
  .transform((table): LlmPriceTable => Object.fromEntries(Object.entries(table).map(([model, price]) => [model, { inputPerMillion: price.input, outputPerMillion: price.output }])));

/**
 * The LLM layer's environment. A service spreads it into its own config schema
 * (`z.object({ ...subgraphEnvironmentSchema.shape, ...llmEnvironmentSchema.shape })`), so every
 * service reads the same names (README, Environment).
 */
export const llmEnvironmentSchema = z.object({
  /**
   * Providers in failover order, comma-separated. Default: every provider whose credentials are
   * set (openai, anthropic, openai-compatible, in that order), then `offline`; with none set, only
   * `offline`, so a service runs with no key and uses one as soon as it is given.
   */
  LLM_PROVIDERS: z
    .string()
    .optional()
    .transform((value) =>
      value === undefined
        ? undefined
        : value
            .split(',')
            .map((name) => name.trim().toLowerCase())
            .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(llmProviderNames))
        .min(1)
        .refine((names) => new Set(names).size === names.length, 'must not name a provider twice')
        .optional(),
    ),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: httpUrl.optional(),
  /** Default: `gpt-5-mini`. */
  OPENAI_MODEL: z.string().min(1).default('gpt-5-mini'),
  /** `chat` (Chat Completions) or `responses` (Responses API). Default: `chat`. */
  OPENAI_API: z.enum(['chat', 'responses']).default('chat'),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: httpUrl.optional(),
  /** Default: `claude-haiku-4-5`. */
  ANTHROPIC_MODEL: z.string().min(1).default('claude-haiku-4-5'),
  /** e.g. `http://localhost:11434/v1` for Ollama. */
  OPENAI_COMPATIBLE_BASE_URL: httpUrl.optional(),
  OPENAI_COMPATIBLE_MODEL: z.string().min(1).optional(),
  OPENAI_COMPATIBLE_API_KEY: z.string().min(1).optional(),
  /** `json_schema` or `json_object` (JSON mode for servers without schema support). Default: `json_schema`. */
  OPENAI_COMPATIBLE_RESPONSE_FORMAT: z.enum(['json_schema', 'json_object']).default('json_schema'),
  /** Per upstream attempt. Default: 30 000. */
  LLM_TIMEOUT_MS: positiveInteger(100, 600_000, 30_000),
  /** Retries of a retryable failure on the same provider. Default: 2. */
  LLM_MAX_RETRIES: positiveInteger(0, 10, 2),
  /** Consecutive failures that open a provider's circuit. Default: 5. */
  LLM_BREAKER_FAILURES: positiveInteger(1, 1_000, 5),
  /** How long an open circuit waits before a trial call. Default: 60 000. */
  LLM_BREAKER_HALF_OPEN_MS: positiveInteger(10, 3_600_000, 60_000),
  /** Calls in flight per provider; more wait in a queue. Default: 8. */
  LLM_MAX_CONCURRENCY: positiveInteger(1, 1_000, 8),
  /** Calls waiting per provider before it is skipped. Default: 100. */
  LLM_MAX_QUEUE: positiveInteger(0, 100_000, 100),
  /** How long answers are cached in Redis; 0 turns the cache off. Default: 86 400. */
  LLM_CACHE_TTL_SECONDS: positiveInteger(0, 31_536_000, 86_400),
  /** JSON price overrides, USD per million tokens: `{"model":{"input":0.25,"output":2}}`. */
  LLM_PRICES: pricesSchema.optional(),
});

export type LlmEnvironment = z.infer<typeof llmEnvironmentSchema>;

export interface LlmDependencies {
  /** Cache and cross-process single-flight. Default: none. */
  redis?: Redis;
  logger: LlmLogger;
  onUsage?: (record: LlmUsageRecord) => void | Promise<void>;
  metricsRegistry?: Registry;
}

/**
 * The providers to try, in order: `LLM_PROVIDERS` as given, or, when it is not set, every provider
 * whose credentials are, then `offline`.
 */
export function llmProviderOrder(config: LlmEnvironment): LlmProviderName[] {
  if (config.LLM_PROVIDERS) return config.LLM_PROVIDERS;
  const configured: LlmProviderName[] = [];
  if (config.OPENAI_API_KEY) configured.push('openai');
  if (config.ANTHROPIC_API_KEY) configured.push('anthropic');
  if (config.OPENAI_COMPATIBLE_BASE_URL && config.OPENAI_COMPATIBLE_MODEL) configured.push('openai-compatible');
  return [...configured, 'offline'];
}

/**
 * The providers `LLM_PROVIDERS` names, in its order (see `llmProviderOrder`). A provider whose key (or base URL and model)
 * is missing is skipped with one warning that names the variable, never its value. With nothing
 * left, the offline provider answers, so the service still runs.
 */
export function createLlmProvidersFromConfig(config: LlmEnvironment, logger: LlmLogger): LlmProvider[] {
  const providers: LlmProvider[] = [];
  const names = llmProviderOrder(config);
  const skip = (provider: LlmProviderName, missing: string) =>
    logger.warn({ provider, missing }, `LLM provider ${provider} skipped: ${missing} is not set`);
  for (const name of names) {
    switch (name) {
      case 'openai':
        if (!config.OPENAI_API_KEY) skip(name, 'OPENAI_API_KEY');
        else providers.push(createOpenAiProvider({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, model: config.OPENAI_MODEL, api: config.OPENAI_API }));
        break;
      case 'anthropic':
        if (!config.ANTHROPIC_API_KEY) skip(name, 'ANTHROPIC_API_KEY');
        else providers.push(createAnthropicProvider({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL, model: config.ANTHROPIC_MODEL }));
        break;
      case 'openai-compatible':
        if (!config.OPENAI_COMPATIBLE_BASE_URL) skip(name, 'OPENAI_COMPATIBLE_BASE_URL');
        else if (!config.OPENAI_COMPATIBLE_MODEL) skip(name, 'OPENAI_COMPATIBLE_MODEL');
        else {
          providers.push(
            createOpenAiCompatibleProvider({
              baseURL: config.OPENAI_COMPATIBLE_BASE_URL,
              model: config.OPENAI_COMPATIBLE_MODEL,
              apiKey: config.OPENAI_COMPATIBLE_API_KEY,
              responseFormat: config.OPENAI_COMPATIBLE_RESPONSE_FORMAT,
            }),
          );
        }
        break;
      case 'offline':
        providers.push(createOfflineProvider());
        break;
    }
  }
  if (providers.length === 0) {
    logger.warn({ providers: names }, 'No LLM provider in LLM_PROVIDERS is usable; answering offline');
    providers.push(createOfflineProvider());
  }
  return providers;
}

/** The Llm a service builds at start from its validated config. */
export function createLlmFromConfig(config: LlmEnvironment, dependencies: LlmDependencies): Llm {
  return createLlm({
    providers: createLlmProvidersFromConfig(config, dependencies.logger),
    redis: dependencies.redis,
    logger: dependencies.logger,
    onUsage: dependencies.onUsage,
    metricsRegistry: dependencies.metricsRegistry,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    breakerFailures: config.LLM_BREAKER_FAILURES,
    breakerHalfOpenAfterMs: config.LLM_BREAKER_HALF_OPEN_MS,
    maxConcurrency: config.LLM_MAX_CONCURRENCY,
    maxQueue: config.LLM_MAX_QUEUE,
    cacheTtlSeconds: config.LLM_CACHE_TTL_SECONDS,
    prices: config.LLM_PRICES,
  });
}
