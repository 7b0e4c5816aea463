import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { cacheHash, createLlmCache, type LlmCache, type LlmCacheLock } from './llm.cache.js';
import { LlmAbortedError, LlmError, LlmInvalidOutputError, LlmProviderError, LlmUnavailableError, redactSecrets, type LlmProviderFailure } from './llm.errors.js';
import { silentLlmLogger, type LlmLogger } from './llm.logger.js';
import { createLlmMetrics, noLlmMetrics, type LlmCallOutcome, type LlmMetrics } from './llm.metrics.js';
import type {
  GenerateObjectRequest,
  GenerateObjectResult,
  GenerateTextRequest,
  GenerateTextResult,
  Llm,
  LlmAttribution,
  LlmMessage,
  LlmPrice,
  LlmProvider,
  LlmProviderCall,
  LlmProviderResponse,
  LlmUsage,
  LlmUsageRecord,
} from './llm.types.js';
import { prepareOutputSchema, type PreparedOutputSchema } from './output-schema.js';
import { costOf, defaultLlmPrices, findPrice, type LlmPriceTable } from './price-table.js';
import { createProviderPolicy, type ProviderPolicy } from './provider-policy.js';
import { SingleFlight } from './single-flight.js';
import { parseStructuredOutput } from './structured-output.js';

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

interface ProviderSlot {
  provider: LlmProvider;
  /** Absent for local providers, which need no resilience. */
  policy?: ProviderPolicy;
}

/** What one request spent. */
interface Tally {
  attempts: number;
  usage: LlmUsage;
  costUsd: number;
}

interface Answer<Value> {
  value: Value;
  provider: string;
  model: string;
  /** The value as the cache stores it; absent when it must not be cached. */
  cacheable?: string;
  firstAttemptValid: boolean;
  repaired: boolean;
  confidence?: number;
  local: boolean;
  cached: boolean;
}

interface UpstreamResult {
  response: LlmProviderResponse;
  latencyMs: number;
  costUsd: number;
}

/** What differs between object and text calls; the flow around them is shared. */
interface Mode<Value> {
  task: { name: string; version: string };
  fingerprint: string;
  cacheKey(provider: LlmProvider): string;
  decode(cached: string): Value | undefined;
  attempt(slot: ProviderSlot, tally: Tally, signal: AbortSignal): Promise<Answer<Value>>;
}

const neverAborted = new AbortController().signal;
const emptyUsage = (): LlmUsage => ({ inputTokens: 0, outputTokens: 0 });

function outcomeOf(error: LlmError): LlmCallOutcome {
  switch (error.code) {
    case 'LLM_RATE_LIMITED':
      return 'rate_limited';
    case 'LLM_TIMEOUT':
      return 'timeout';
    case 'LLM_REFUSAL':
      return 'refused';
    case 'LLM_INVALID_OUTPUT':
      return 'invalid_output';
    case 'LLM_ABORTED':
      return 'aborted';
    default:
      return 'provider_error';
  }
}

/** Whatever a provider threw, as an LlmError (a provider bug must still fail over, not crash the chain). */
function asLlmError(error: unknown, provider: LlmProvider): LlmError {
  if (error instanceof LlmError) return error;
  const message = redactSecrets(error instanceof Error ? error.message : String(error), []);
  return new LlmProviderError(`unexpected error: ${message}`, undefined, false, { provider: provider.name, model: provider.model });
}

/** The follow-up turn of a corrective re-ask, in the shape the protocol expects after the model's answer. */
function correctionMessage(previous: LlmMessage, issues: string[]): LlmMessage {
  const content = `Your answer does not match the required JSON schema:\n${issues
    .slice(0, 20)
    .map((issue) => `- ${issue}`)
    .join('\n')}\nAnswer again with the complete corrected object, matching the schema exactly.`;
  if (previous.role === 'assistant' && previous.toolCall) return { role: 'tool-result', toolCallId: previous.toolCall.id, content, isError: true };
  return { role: 'user', content };
}

/**
 * The LLM layer: one structured-output interface over providers in failover order, with per-provider
 * timeouts, retries, circuit breakers and concurrency caps; validation with repair and one
 * corrective re-ask; metering; and a Redis cache with single-flight.
 */
export function createLlm(options: CreateLlmOptions): Llm {
  const logger = options.logger ?? silentLlmLogger;
  const metrics: LlmMetrics = options.metricsRegistry ? createLlmMetrics(options.metricsRegistry) : noLlmMetrics;
  const prices: LlmPriceTable = { ...defaultLlmPrices, ...options.prices };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const cacheTtlSeconds = options.cacheTtlSeconds ?? 86_400;
  const keyPrefix = options.cacheKeyPrefix ?? 'llm:';
  const cache: LlmCache | undefined =
    options.redis && cacheTtlSeconds > 0
      ? createLlmCache({
          redis: options.redis,
          keyPrefix,
          ttlSeconds: cacheTtlSeconds,
          lockTtlMs: options.cacheLockTtlMs ?? timeoutMs * 2,
          lockPollMs: options.cacheLockPollMs ?? 50,
          logger,
        })
      : undefined;
  const flights = new SingleFlight<{ answer: Answer<unknown>; tally: Tally }>();
  const preparedSchemas = new WeakMap<object, PreparedOutputSchema & { taskName: string }>();
  const unpricedModels = new Set<string>();

  const slots: ProviderSlot[] = options.providers.map((provider) => {
    if (provider.local) return { provider };
    const label = { provider: provider.name, model: provider.model };
    const policy = createProviderPolicy(
      label,
      {
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
      {
        onRetry: (error, delayMs, attempt) =>
          logger.debug({ ...label, delayMs: Math.round(delayMs), attempt, code: error instanceof LlmError ? error.code : undefined }, 'LLM call retried'),
        onBreak: () => {
          metrics.circuitState(provider.name, provider.model, true);
          logger.warn({ ...label, halfOpenAfterMs: options.breakerHalfOpenAfterMs ?? 60_000 }, `LLM circuit opened for ${provider.name}: calls fail over until a trial call succeeds`);
        },
        onReset: () => {
          metrics.circuitState(provider.name, provider.model, false);
          logger.info(label, `LLM circuit closed for ${provider.name}`);
        },
      },
    );
    return { provider, policy };
  });
  const remoteSlots = slots.filter((slot) => !slot.provider.local);

  const emitUsage = (record: Omit<LlmUsageRecord, 'id' | 'at'>) => {
    if (!options.onUsage) return;
    const attribution = attributions.getStore();
    const full: LlmUsageRecord = { id: randomUUID(), at: new Date(), ...record, ...(attribution ? { attribution } : {}) };
    const reportFailure = (error: unknown) =>
      logger.error({ task: record.task, error: error instanceof Error ? error.message : String(error) }, 'LLM onUsage hook failed; the call itself succeeded');
    try {
      const pending = options.onUsage(full);
      if (pending && typeof pending.then === 'function') pending.then(undefined, reportFailure);
    } catch (error) {
      reportFailure(error);
    }
  };

  const priceOf = (provider: LlmProvider, reportedModel: string): LlmPrice => {
    const price = findPrice(prices, reportedModel) ?? findPrice(prices, provider.model) ?? provider.defaultPrice;
    if (price) return price;
    if (!unpricedModels.has(provider.model)) {
      unpricedModels.add(provider.model);
      logger.warn({ provider: provider.name, model: provider.model }, `LLM model ${provider.model} has no price; its cost is recorded as 0 (set LLM_PRICES)`);
    }
    return { inputPerMillion: 0, outputPerMillion: 0 };
  };

  /** One upstream call under the provider's policy, with its tokens and cost added to the tally. */
  const upstream = async (slot: ProviderSlot & { policy: ProviderPolicy }, call: LlmProviderCall, tally: Tally, task: Mode<unknown>['task'], signal: AbortSignal): Promise<UpstreamResult> => {
    const { provider } = slot;
    return slot.policy.execute(async (attemptSignal) => {
      tally.attempts += 1;
      const started = performance.now();
      try {
        const response = await provider.generate({ ...call, signal: attemptSignal });
        const costUsd = costOf(priceOf(provider, response.model), response.usage);
        tally.usage.inputTokens += response.usage.inputTokens;
        tally.usage.outputTokens += response.usage.outputTokens;
        tally.costUsd += costUsd;
        return { response, latencyMs: performance.now() - started, costUsd };
      } catch (caught) {
        const error = asLlmError(caught, provider);
        const latencyMs = performance.now() - started;
        // The timeout policy aborts the attempt's signal; the provider then reports an abort.
        const outcome: LlmCallOutcome = attemptSignal.aborted && !signal.aborted ? 'timeout' : outcomeOf(error);
        const usage = error.usage ?? emptyUsage();
        const costUsd = error.usage ? costOf(priceOf(provider, provider.model), usage) : 0;
        metrics.upstreamCall({ task: task.name, provider: provider.name, model: provider.model, outcome }, latencyMs, usage, costUsd);
        if (error.usage) {
          // A refusal is an answer: it was billed, so it is metered.
          tally.usage.inputTokens += usage.inputTokens;
          tally.usage.outputTokens += usage.outputTokens;
          tally.costUsd += costUsd;
          emitUsage({ task: task.name, taskVersion: task.version, provider: provider.name, model: provider.model, ...usage, costUsd, latencyMs, cached: false, outcome: 'error' });
        }
        throw error;
      }
    }, signal);
  };

  const report = (provider: LlmProvider, task: Mode<unknown>['task'], result: UpstreamResult, outcome: 'ok' | 'invalid_output') => {
    const { response, latencyMs, costUsd } = result;
    metrics.upstreamCall({ task: task.name, provider: provider.name, model: provider.model, outcome }, latencyMs, response.usage, costUsd);
    emitUsage({
      task: task.name,
      taskVersion: task.version,
      provider: provider.name,
      model: response.model || provider.model,
      ...response.usage,
      costUsd,
      latencyMs,
      cached: false,
      outcome,
    });
  };

  /** Each provider in order until one answers; an open circuit costs no network call. */
  const resolveFresh = async <Value>(mode: Mode<Value>, tally: Tally, signal: AbortSignal, lock?: LlmCacheLock): Promise<Answer<Value>> => {
    const failures: LlmProviderFailure[] = [];
    for (const [position, slot] of slots.entries()) {
      if (signal.aborted) throw new LlmAbortedError();
      try {
        const answer = await mode.attempt(slot, tally, signal);
        if (cache && answer.cacheable !== undefined && !slot.provider.local) {
          const key = mode.cacheKey(slot.provider);
          await (lock ? lock.storeAndRelease(key, answer.cacheable) : cache.store(key, answer.cacheable));
        }
        return answer;
      } catch (caught) {
        if (signal.aborted) throw new LlmAbortedError();
        const error = asLlmError(caught, slot.provider);
        failures.push({ provider: slot.provider.name, model: slot.provider.model, error });
        if (position < slots.length - 1) metrics.failover(slot.provider.name, error.code);
        // An open circuit would log on every call while it lasts; its opening was logged once.
        const level = error.code === 'LLM_CIRCUIT_OPEN' ? 'debug' : 'warn';
        logger[level](
          { task: mode.task.name, provider: slot.provider.name, model: slot.provider.model, code: error.code },
          `LLM provider ${slot.provider.name} failed: ${error.message}`,
        );
      }
    }
    throw new LlmUnavailableError(mode.task.name, failures);
  };

  const fromCache = <Value>(mode: Mode<Value>, hit: { index: number; value: string }, started: number): Answer<Value> | undefined => {
    const slot = remoteSlots[hit.index];
    const value = mode.decode(hit.value);
    if (!slot || value === undefined) return undefined;
    metrics.cacheLookup(mode.task.name, 'hit');
    emitUsage({
      task: mode.task.name,
      taskVersion: mode.task.version,
      provider: slot.provider.name,
      model: slot.provider.model,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      latencyMs: performance.now() - started,
      cached: true,
      outcome: 'ok',
    });
    return { value, provider: slot.provider.name, model: slot.provider.model, firstAttemptValid: true, repaired: false, local: false, cached: true };
  };

  /** Cache, then (holding the cross-process lock, or after waiting for whoever holds it) the providers. */
  const resolve = async <Value>(mode: Mode<Value>, tally: Tally, signal: AbortSignal): Promise<Answer<Value>> => {
    if (!cache || remoteSlots.length === 0) return resolveFresh(mode, tally, signal);
    const started = performance.now();
    const keys = remoteSlots.map((slot) => mode.cacheKey(slot.provider));
    const hit = await cache.lookup(keys);
    const cached = hit && fromCache(mode, hit, started);
    if (cached) return cached;
    metrics.cacheLookup(mode.task.name, 'miss');
    const lock = await cache.tryLock(mode.fingerprint);
    if (!lock) {
      // Another process is making this very call: its answer is cheaper than ours.
      const waited = await cache.waitForAnswer(keys, mode.fingerprint, signal);
      const answer = waited && fromCache(mode, waited, started);
      if (answer) return answer;
    }
    try {
      return await resolveFresh(mode, tally, signal, lock);
    } finally {
      await lock?.release();
    }
  };

  // Who each usage record is for, without threading it through every step: upstream calls run in
  // the context of the request that made them (a single-flight leader's), a joined answer in its own.
  const attributions = new AsyncLocalStorage<LlmAttribution | undefined>();
  const run = <Value>(mode: Mode<Value>, request: { signal?: AbortSignal; bypassCache?: boolean; attribution?: LlmAttribution }) =>
    attributions.run(request.attribution, () => runAttributed(mode, request));

  const runAttributed = async <Value>(mode: Mode<Value>, request: { signal?: AbortSignal; bypassCache?: boolean }): Promise<Answer<Value> & { tally: Tally; latencyMs: number }> => {
    const started = performance.now();
    if (request.signal?.aborted) throw new LlmAbortedError();
    if (request.bypassCache) {
      const tally: Tally = { attempts: 0, usage: emptyUsage(), costUsd: 0 };
      const answer = await resolveFresh(mode, tally, request.signal ?? neverAborted);
      return { ...answer, tally, latencyMs: performance.now() - started };
    }
    const { value: shared, leader } = await flights.run(mode.fingerprint, request.signal, async (signal) => {
      const tally: Tally = { attempts: 0, usage: emptyUsage(), costUsd: 0 };
      return { answer: (await resolve(mode, tally, signal)) as Answer<unknown>, tally };
    });
    const answer = shared.answer as Answer<Value>;
    if (leader) return { ...answer, tally: shared.tally, latencyMs: performance.now() - started };
    // Joined an identical call in flight: the leader paid, this caller got a shared answer.
    metrics.cacheLookup(mode.task.name, 'joined');
    const latencyMs = performance.now() - started;
    if (!answer.local) {
      emitUsage({
        task: mode.task.name,
        taskVersion: mode.task.version,
        provider: answer.provider,
        model: answer.model,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        latencyMs,
        cached: true,
        outcome: 'ok',
      });
    }
    return { ...answer, cached: !answer.local, tally: { attempts: 0, usage: emptyUsage(), costUsd: 0 }, latencyMs };
  };

  /** What object and text results share: who answered, what it cost, how it went. */
  const resultOf = (answer: Answer<unknown> & { tally: Tally; latencyMs: number }) => ({
    provider: answer.provider,
    model: answer.model,
    usage: answer.tally.usage,
    costUsd: answer.tally.costUsd,
    latencyMs: answer.latencyMs,
    attempts: answer.tally.attempts,
    cached: answer.cached,
    ...(answer.confidence === undefined ? {} : { confidence: answer.confidence }),
  });

  const prepared = (taskName: string, schema: z.ZodType): PreparedOutputSchema => {
    const known = preparedSchemas.get(schema);
    if (known && known.taskName === taskName) return known;
    const fresh = { ...prepareOutputSchema(taskName, schema), taskName };
    preparedSchemas.set(schema, fresh);
    return fresh;
  };

  return {
    async generateObject<Output, Context>(request: GenerateObjectRequest<Output, Context>): Promise<GenerateObjectResult<Output>> {
      const { task, prompt } = request;
      const system = request.system ?? task.system;
      const output = prepared(task.name, task.schema);
      const cacheParts = (provider: string, model: string) => [task.name, task.version, provider, model, system ?? '', prompt, output.fingerprint];
      const taskLabel = { name: task.name, version: task.version };

      const mode: Mode<Output> = {
        task: taskLabel,
        fingerprint: cacheHash(['object', ...cacheParts('*', '*')]),
        cacheKey: (provider) => `${keyPrefix}object:${cacheHash(cacheParts(provider.name, provider.model))}`,
        decode(cached) {
          try {
            const parsed = task.schema.safeParse(JSON.parse(cached));
            return parsed.success ? parsed.data : undefined;
          } catch {
            return undefined;
          }
        },
        async attempt(slot, tally, signal) {
          const { provider } = slot;
          const call: LlmProviderCall = {
            mode: 'object',
            system,
            messages: [{ role: 'user', content: prompt }],
            schema: output.schema,
            temperature: request.temperature,
            maxOutputTokens: request.maxOutputTokens,
            signal,
            task,
            context: request.context,
          };
          const details = { provider: provider.name, model: provider.model };
          if (!slot.policy) {
            const started = performance.now();
            const response = await provider.generate(call);
            const parsed = parseStructuredOutput(response, task.schema, { wrapped: false });
            const outcome = parsed.success ? 'ok' : 'invalid_output';
            metrics.upstreamCall({ task: task.name, provider: provider.name, model: provider.model, outcome }, performance.now() - started, response.usage, 0);
            if (!parsed.success) throw new LlmInvalidOutputError(`the offline answer does not match the schema: ${parsed.issues.slice(0, 5).join('; ')}`, parsed.issues, details);
            return { value: parsed.object, provider: provider.name, model: response.model, firstAttemptValid: true, repaired: false, confidence: provider.confidence, local: true, cached: false };
          }
          const withPolicy = { ...slot, policy: slot.policy };
          const first = await upstream(withPolicy, call, tally, taskLabel, signal);
          const firstParsed = parseStructuredOutput(first.response, task.schema, { wrapped: output.wrapped });
          report(provider, taskLabel, first, firstParsed.success ? 'ok' : 'invalid_output');
          if (firstParsed.success) {
            return {
              value: firstParsed.object,
              provider: provider.name,
              model: first.response.model || provider.model,
              cacheable: JSON.stringify(firstParsed.candidate),
              firstAttemptValid: !firstParsed.repaired,
              repaired: firstParsed.repaired,
              confidence: provider.confidence,
              local: false,
              cached: false,
            };
          }
          logger.debug({ ...details, task: task.name, issues: firstParsed.issues.slice(0, 5) }, 'LLM answer did not match the schema; asking again with the errors');
          const corrective: LlmProviderCall = {
            ...call,
            messages: [...call.messages, first.response.assistantMessage, correctionMessage(first.response.assistantMessage, firstParsed.issues)],
          };
          const second = await upstream(withPolicy, corrective, tally, taskLabel, signal);
          const secondParsed = parseStructuredOutput(second.response, task.schema, { wrapped: output.wrapped });
          report(provider, taskLabel, second, secondParsed.success ? 'ok' : 'invalid_output');
          if (!secondParsed.success) {
            throw new LlmInvalidOutputError(
              `the answer did not match the schema, even after a corrective re-ask: ${secondParsed.issues.slice(0, 5).join('; ')}`,
              secondParsed.issues,
              details,
            );
          }
          return {
            value: secondParsed.object,
            provider: provider.name,
            model: second.response.model || provider.model,
            cacheable: JSON.stringify(secondParsed.candidate),
            firstAttemptValid: false,
            repaired: secondParsed.repaired,
            confidence: provider.confidence,
            local: false,
            cached: false,
          };
        },
      };

      const answer = await run(mode, request);
      return { object: answer.value, ...resultOf(answer), firstAttemptValid: answer.firstAttemptValid, repaired: answer.repaired };
    },

    async generateText<Context>(request: GenerateTextRequest<Context>): Promise<GenerateTextResult> {
      const { task, prompt } = request;
      const system = request.system ?? task.system;
      const cacheParts = (provider: string, model: string) => [task.name, task.version, provider, model, system ?? '', prompt, 'text'];
      const taskLabel = { name: task.name, version: task.version };

      const mode: Mode<string> = {
        task: taskLabel,
        fingerprint: cacheHash(['text', ...cacheParts('*', '*')]),
        cacheKey: (provider) => `${keyPrefix}text:${cacheHash(cacheParts(provider.name, provider.model))}`,
        decode: (cached) => cached,
        async attempt(slot, tally, signal) {
          const { provider } = slot;
          const call: LlmProviderCall = {
            mode: 'text',
            system,
            messages: [{ role: 'user', content: prompt }],
            temperature: request.temperature,
            maxOutputTokens: request.maxOutputTokens,
            signal,
            task,
            context: request.context,
          };
          if (!slot.policy) {
            const started = performance.now();
            const response = await provider.generate(call);
            metrics.upstreamCall({ task: task.name, provider: provider.name, model: provider.model, outcome: 'ok' }, performance.now() - started, response.usage, 0);
            return { value: response.text, provider: provider.name, model: response.model, firstAttemptValid: true, repaired: false, confidence: provider.confidence, local: true, cached: false };
          }
          const result = await upstream({ ...slot, policy: slot.policy }, call, tally, taskLabel, signal);
          const text = result.response.text;
          const empty = text.trim() === '';
          report(provider, taskLabel, result, empty ? 'invalid_output' : 'ok');
          if (empty) throw new LlmInvalidOutputError('the model answered with empty text', ['(root): empty answer'], { provider: provider.name, model: provider.model });
          return {
            value: text,
            provider: provider.name,
            model: result.response.model || provider.model,
            cacheable: text,
            firstAttemptValid: true,
            repaired: false,
            confidence: provider.confidence,
            local: false,
            cached: false,
          };
        },
      };

      const answer = await run(mode, request);
      return { text: answer.value, ...resultOf(answer) };
    },

    providerStates() {
      return slots.map((slot) => ({ provider: slot.provider.name, model: slot.provider.model, circuit: slot.policy ? slot.policy.circuit() : 'not-applicable' }));
    },
  };
}
