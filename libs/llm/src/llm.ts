import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { emptyTally, type Answer, type Mode, type Tally } from './llm.answer.js';
import { createLlmCache } from './llm.cache.js';
import { createCachedAnswers } from './llm.cached-answers.js';
import { LlmAbortedError } from './llm.errors.js';
import { createLlmFailover } from './llm.failover.js';
import { silentLlmLogger, type LlmLogger } from './llm.logger.js';
import { createLlmMetering } from './llm.metering.js';
import { createLlmMetrics, noLlmMetrics, type LlmMetrics } from './llm.metrics.js';
import { objectMode, textMode } from './llm.modes.js';
import type { GenerateObjectRequest, GenerateObjectResult, GenerateTextRequest, GenerateTextResult, Llm, LlmAttribution, LlmProvider, LlmUsageRecord } from './llm.types.js';
import { prepareOutputSchema, type PreparedOutputSchema } from './output-schema.js';
import { defaultLlmPrices, type LlmPriceTable } from './price-table.js';
import { SingleFlight } from './single-flight.js';

export interface CreateLlmOptions {
  /** Providers in failover order, e.g. `[openai, anthropic, offline]`. */
  providers: LlmProvider[];
  /** Where answers are cached and cross-process calls are coordinated. Default: no cache (single-flight still works in-process). */
  redis?: Redis;
  /** How long a cached answer is reused. Default: 86 400 (a day); 0 turns the cache off. */
  cacheTtlSeconds?: number;
  /** Prefix of the layer's Redis keys, after the client's own. Default: `llm:`. */
  cacheKeyPrefix?: string;
  /** How long one process may hold the right to make a call while others wait for its answer. Default: twice `timeoutMs`. */
  cacheLockTtlMs?: number;
  /** How often a process waiting on another one's call looks for its answer. Default: 50. */
  cacheLockPollMs?: number;
  /** Per upstream attempt. Default: 30 000. */
  timeoutMs?: number;
  /** Retries of a retryable failure (429, 5xx, network, timeout) on the same provider. Default: 2. */
  maxRetries?: number;
  /** First backoff delay before jitter. Default: 250. */
  retryInitialDelayMs?: number;
  /** Longest backoff delay. Default: 10 000. */
  retryMaxDelayMs?: number;
  /** A 429 asking to wait longer than this fails over instead of waiting. Default: 20 000. */
  maxRetryAfterMs?: number;
  /** Consecutive failures that open a provider's circuit. Default: 5. */
  breakerFailures?: number;
  /** How long an open circuit stays open before one trial call. Default: 60 000. */
  breakerHalfOpenAfterMs?: number;
  /** Calls in flight per provider. Default: 8. */
  maxConcurrency?: number;
  /** Calls waiting for a slot per provider before the provider is skipped. Default: 100. */
  maxQueue?: number;
  /** Per-model prices (USD per million tokens), merged over `defaultLlmPrices`. */
  prices?: LlmPriceTable;
  /** Default: silent. */
  logger?: LlmLogger;
  /**
   * Called once per upstream call that returned (valid or not) and once per cached answer. Not
   * awaited; what it throws or rejects is logged and never fails the call.
   */
  onUsage?: (record: LlmUsageRecord) => void | Promise<void>;
  /** Prometheus registry for the layer's series. Default: no metrics. */
  metricsRegistry?: Registry;
}

const neverAborted = new AbortController().signal;

type Resolved<Value> = Answer<Value> & { tally: Tally; latencyMs: number };

/** What object and text results share: who answered, what it cost, how it went. */
function resultOf(answer: Resolved<unknown>) {
  return {
    provider: answer.provider,
    model: answer.model,
    usage: answer.tally.usage,
    costUsd: answer.tally.costUsd,
    latencyMs: answer.latencyMs,
    attempts: answer.tally.attempts,
    cached: answer.cached,
    ...(answer.confidence === undefined ? {} : { confidence: answer.confidence }),
  };
}

/**
 * The LLM layer: one structured-output interface over providers in failover order
 * (llm.failover.ts: per-provider timeouts, retries, circuit breakers and concurrency caps), with
 * validation, repair and one corrective re-ask (llm.modes.ts), metering (llm.metering.ts), and a
 * Redis cache whose calls are made once across processes (llm.cached-answers.ts) and once in this
 * one (single-flight, here).
 */
export function createLlm(options: CreateLlmOptions): Llm {
  const logger = options.logger ?? silentLlmLogger;
  const metrics: LlmMetrics = options.metricsRegistry ? createLlmMetrics(options.metricsRegistry) : noLlmMetrics;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const cacheTtlSeconds = options.cacheTtlSeconds ?? 86_400;
  const keyPrefix = options.cacheKeyPrefix ?? 'llm:';

  // Who each usage record is for, without threading it through every step: upstream calls run in
  // the context of the request that made them (a single-flight leader's), a joined answer in its own.
  const attributions = new AsyncLocalStorage<LlmAttribution | undefined>();
  const metering = createLlmMetering({
    onUsage: options.onUsage,
    prices: { ...defaultLlmPrices, ...options.prices },
    logger,
    metrics,
    attributionOf: () => attributions.getStore(),
  });
  const failover = createLlmFailover({
    providers: options.providers,
    policy: {
      timeoutMs,
      maxRetries: options.maxRetries ?? 2,
      retryInitialDelayMs: options.retryInitialDelayMs ?? 250,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 10_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 20_000,
      breakerFailures: options.breakerFailures ?? 5,
      breakerHalfOpenAfterMs: options.breakerHalfOpenAfterMs ?? 60_000,
      maxConcurrency: options.maxConcurrency ?? 8,
      maxQueue: options.maxQueue ?? 100,
    },
    logger,
    metrics,
    metering,
  });
  const cache =
    options.redis && cacheTtlSeconds > 0
      ? createLlmCache({ redis: options.redis, keyPrefix, ttlSeconds: cacheTtlSeconds, lockTtlMs: options.cacheLockTtlMs ?? timeoutMs * 2, lockPollMs: options.cacheLockPollMs ?? 50, logger })
      : undefined;
  const answers = createCachedAnswers({ cache, failover, metrics, metering });
  const modeDependencies = { keyPrefix, upstream: failover.upstream, metering, metrics, logger };
  const flights = new SingleFlight<{ answer: Answer<unknown>; tally: Tally }>();

  /** The answer to a call: fresh when the cache is bypassed, else shared with an identical call in flight here, or cached. */
  const resolve = async <Value>(mode: Mode<Value>, request: { signal?: AbortSignal; bypassCache?: boolean }): Promise<Resolved<Value>> => {
    const started = performance.now();
    if (request.signal?.aborted) throw new LlmAbortedError();
    if (request.bypassCache) {
      const tally = emptyTally();
      const answer = await answers.fresh(mode, tally, request.signal ?? neverAborted);
      return { ...answer, tally, latencyMs: performance.now() - started };
    }
    const { value: shared, leader } = await flights.run(mode.fingerprint, request.signal, async (signal) => {
      const tally = emptyTally();
      return { answer: (await answers.answer(mode, tally, signal)) as Answer<unknown>, tally };
    });
    const answer = shared.answer as Answer<Value>;
    if (leader) return { ...answer, tally: shared.tally, latencyMs: performance.now() - started };
    // Joined an identical call in flight: the leader paid, this caller got a shared answer.
    metrics.cacheLookup(mode.task.name, 'joined');
    const latencyMs = performance.now() - started;
    if (!answer.local) metering.shared(mode.task, answer.provider, answer.model, latencyMs);
    return { ...answer, cached: !answer.local, tally: emptyTally(), latencyMs };
  };
  const run = <Value>(mode: Mode<Value>, request: { signal?: AbortSignal; bypassCache?: boolean; attribution?: LlmAttribution }) =>
    attributions.run(request.attribution, () => resolve(mode, request));

  const preparedSchemas = new WeakMap<object, PreparedOutputSchema & { taskName: string }>();
  const prepared = (taskName: string, schema: z.ZodType): PreparedOutputSchema => {
    const known = preparedSchemas.get(schema);
    if (known && known.taskName === taskName) return known;
    const fresh = { ...prepareOutputSchema(taskName, schema), taskName };
    preparedSchemas.set(schema, fresh);
    return fresh;
  };

  return {
    async generateObject<Output, Context>(request: GenerateObjectRequest<Output, Context>): Promise<GenerateObjectResult<Output>> {
      const answer = await run(objectMode(request, prepared(request.task.name, request.task.schema), modeDependencies), request);
      return { object: answer.value, ...resultOf(answer), firstAttemptValid: answer.firstAttemptValid, repaired: answer.repaired };
    },

    async generateText<Context>(request: GenerateTextRequest<Context>): Promise<GenerateTextResult> {
      const answer = await run(textMode(request, modeDependencies), request);
      return { text: answer.value, ...resultOf(answer) };
    },

    providerStates: failover.providerStates,
  };
}
