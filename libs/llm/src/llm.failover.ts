import { emptyUsage, type Answer, type Mode, type ProviderSlot, type TaskLabel, type Tally, type UpstreamResult } from './llm.answer.js';
import { LlmAbortedError, LlmError, LlmProviderError, LlmUnavailableError, redactSecrets, type LlmProviderFailure } from './llm.errors.js';
import type { LlmLogger } from './llm.logger.js';
import type { LlmMetering } from './llm.metering.js';
import type { LlmCallOutcome, LlmMetrics } from './llm.metrics.js';
import type { LlmProvider, LlmProviderCall } from './llm.types.js';
import { costOf } from './price-table.js';
import { createProviderPolicy, type ProviderPolicy, type ProviderPolicyOptions } from './provider-policy.js';

export interface LlmFailoverOptions {
  /** Providers in failover order. */
  providers: LlmProvider[];
  policy: ProviderPolicyOptions;
  logger: LlmLogger;
  metrics: LlmMetrics;
  metering: LlmMetering;
}

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
export function asLlmError(error: unknown, provider: LlmProvider): LlmError {
  if (error instanceof LlmError) return error;
  const message = redactSecrets(error instanceof Error ? error.message : String(error), []);
  return new LlmProviderError(`unexpected error: ${message}`, undefined, false, { provider: provider.name, model: provider.model });
}

/**
 * The providers in failover order, each remote one behind its policy (timeout, retries with
 * backoff, circuit breaker, concurrency cap): `answer` asks each in turn until one answers.
 */
export function createLlmFailover(options: LlmFailoverOptions) {
  const { logger, metrics, metering } = options;
  const slots: ProviderSlot[] = options.providers.map((provider) => {
    if (provider.local) return { provider };
    const label = { provider: provider.name, model: provider.model };
    const policy = createProviderPolicy(label, options.policy, {
      onRetry: (error, delayMs, attempt) => logger.debug({ ...label, delayMs: Math.round(delayMs), attempt, code: error instanceof LlmError ? error.code : undefined }, 'LLM call retried'),
      onBreak: () => {
        metrics.circuitState(provider.name, provider.model, true);
        logger.warn({ ...label, halfOpenAfterMs: options.policy.breakerHalfOpenAfterMs }, `LLM circuit opened for ${provider.name}: calls fail over until a trial call succeeds`);
      },
      onReset: () => {
        metrics.circuitState(provider.name, provider.model, false);
        logger.info(label, `LLM circuit closed for ${provider.name}`);
      },
    });
    return { provider, policy };
  });

  return {
    slots,
    /** The providers whose answers are cached: every one but the local ones. */
    remoteSlots: slots.filter((slot) => !slot.provider.local),

    /** One upstream call under the provider's policy, with its tokens and cost added to the tally. */
    async upstream(slot: ProviderSlot & { policy: ProviderPolicy }, call: LlmProviderCall, tally: Tally, task: TaskLabel, signal: AbortSignal): Promise<UpstreamResult> {
      const { provider } = slot;
      return slot.policy.execute(async (attemptSignal) => {
        tally.attempts += 1;
        const started = performance.now();
        try {
          const response = await provider.generate({ ...call, signal: attemptSignal });
          const costUsd = costOf(metering.priceOf(provider, response.model), response.usage);
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
          const costUsd = error.usage ? costOf(metering.priceOf(provider, provider.model), usage) : 0;
          metrics.upstreamCall({ task: task.name, provider: provider.name, model: provider.model, outcome }, latencyMs, usage, costUsd);
          if (error.usage) {
            // A refusal is an answer: it was billed, so it is metered.
            tally.usage.inputTokens += usage.inputTokens;
            tally.usage.outputTokens += usage.outputTokens;
            tally.costUsd += costUsd;
            metering.record({ task: task.name, taskVersion: task.version, provider: provider.name, model: provider.model, ...usage, costUsd, latencyMs, cached: false, outcome: 'error' });
          }
          throw error;
        }
      }, signal);
    },

    /** Each provider in order until one answers, and the one that did; an open circuit costs no network call. */
    async answer<Value>(mode: Mode<Value>, tally: Tally, signal: AbortSignal): Promise<{ answer: Answer<Value>; slot: ProviderSlot }> {
      const failures: LlmProviderFailure[] = [];
      for (const [position, slot] of slots.entries()) {
        if (signal.aborted) throw new LlmAbortedError();
        try {
          return { answer: await mode.attempt(slot, tally, signal), slot };
        } catch (caught) {
          if (signal.aborted) throw new LlmAbortedError();
          const error = asLlmError(caught, slot.provider);
          failures.push({ provider: slot.provider.name, model: slot.provider.model, error });
          if (position < slots.length - 1) metrics.failover(slot.provider.name, error.code);
          // An open circuit would log on every call while it lasts; its opening was logged once.
          const level = error.code === 'LLM_CIRCUIT_OPEN' ? 'debug' : 'warn';
          logger[level]({ task: mode.task.name, provider: slot.provider.name, model: slot.provider.model, code: error.code }, `LLM provider ${slot.provider.name} failed: ${error.message}`);
        }
      }
      throw new LlmUnavailableError(mode.task.name, failures);
    },

    providerStates() {
      return slots.map((slot) => ({ provider: slot.provider.name, model: slot.provider.model, circuit: slot.policy ? slot.policy.circuit() : ('not-applicable' as const) }));
    },
  };
}

export type LlmFailover = ReturnType<typeof createLlmFailover>;
