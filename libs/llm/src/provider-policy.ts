import {
  bulkhead,
  CircuitState,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isTaskCancelledError,
  retry,
  timeout,
  TimeoutStrategy,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
} from 'cockatiel';
import { LlmAbortedError, LlmCapacityError, LlmCircuitOpenError, LlmError, LlmProviderError, LlmRateLimitedError, LlmTimeoutError } from './llm.errors.js';

export interface ProviderPolicyOptions {
  timeoutMs: number;
  maxRetries: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  maxRetryAfterMs: number;
  breakerFailures: number;
  breakerHalfOpenAfterMs: number;
  maxConcurrency: number;
  maxQueue: number;
}

export interface ProviderPolicyEvents {
  onRetry(error: unknown, delayMs: number, attempt: number): void;
  onBreak(): void;
  onReset(): void;
}

export interface ProviderPolicy {
  /** Runs one upstream call under retry → circuit breaker → concurrency cap → timeout. */
  execute<Result>(call: (signal: AbortSignal) => Promise<Result>, signal: AbortSignal): Promise<Result>;
  circuit(): 'closed' | 'open' | 'half-open';
}

/**
 * Exponential backoff with jitter, stretched to the provider's Retry-After when it gave one: the
 * provider knows better than our curve when it will take the call again.
 */
function honourRetryAfter(exponential: IBackoffFactory<unknown>): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const step = (curve: IBackoff<unknown>, context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> => {
    const error = 'error' in context.result ? context.result.error : undefined;
    const retryAfterMs = error instanceof LlmRateLimitedError ? (error.retryAfterMs ?? 0) : 0;
    return { duration: Math.max(curve.duration, retryAfterMs), next: (nextContext) => step(curve.next(nextContext), nextContext) };
  };
  return { next: (context) => step(exponential.next(context), context) };
}

/**
 * The one resilience policy of a provider (the SDKs' own retries are off). Order, outermost first:
 * - retry, only for retryable failures (429, 5xx, network, timeout), never 400/401/refusals, and
 *   not when Retry-After asks for longer than `maxRetryAfterMs` (failing over is faster);
 * - circuit breaker, so each attempt counts and an open circuit fails in microseconds without a
 *   network call, which is what makes failover immediate;
 * - bulkhead, holding a slot only while a request is on the wire, not during backoff sleeps;
 * - timeout per attempt, aborting the SDK's request through its AbortSignal.
 */
export function createProviderPolicy(label: { provider: string; model: string }, options: ProviderPolicyOptions, events: ProviderPolicyEvents): ProviderPolicy {
  const retryable = (error: unknown) =>
    error instanceof LlmError && error.isRetryable && !(error instanceof LlmRateLimitedError && (error.retryAfterMs ?? 0) > options.maxRetryAfterMs);
  // A bad key or a forbidden model is the provider being unusable, like an outage; a bad request,
  // a refusal or an invalid answer is about this call only and must not open the circuit.
  const providerFault = (error: unknown) => retryable(error) || (error instanceof LlmProviderError && (error.status === 401 || error.status === 403));

  const retryPolicy = retry(handleWhen(retryable), {
    maxAttempts: options.maxRetries,
    backoff: honourRetryAfter(new ExponentialBackoff({ initialDelay: options.retryInitialDelayMs, maxDelay: options.retryMaxDelayMs })),
  });
  const breaker = circuitBreaker(handleWhen(providerFault), {
    halfOpenAfter: options.breakerHalfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerFailures),
  });
  const bulkheadPolicy = bulkhead(options.maxConcurrency, options.maxQueue);
  // Not aborted once the call has returned (there is nothing left to stop): aborting builds an
  // AbortError for every call, which showed in profiles of a busy enrichment job.
  const timeoutPolicy = timeout(options.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });

  retryPolicy.onRetry((reason) => events.onRetry('error' in reason ? reason.error : undefined, reason.delay, reason.attempt));
  breaker.onBreak(() => events.onBreak());
  breaker.onReset(() => events.onReset());

  const details = { provider: label.provider, model: label.model };

  const timed = async <Result>(call: (signal: AbortSignal) => Promise<Result>, signal: AbortSignal): Promise<Result> => {
    try {
      return await timeoutPolicy.execute(({ signal: attemptSignal }) => call(attemptSignal), signal);
    } catch (error) {
      const cancelled = isTaskCancelledError(error) || error instanceof LlmAbortedError;
      if (cancelled && !signal.aborted) throw new LlmTimeoutError(`no answer within ${options.timeoutMs} ms`, details);
      if (cancelled) throw new LlmAbortedError(undefined, details);
      throw error;
    }
  };

  return {
    async execute(call, signal) {
      try {
        return await retryPolicy.execute(() => breaker.execute(() => bulkheadPolicy.execute(() => timed(call, signal), signal), signal), signal);
      } catch (error) {
        if (isBrokenCircuitError(error)) {
          throw new LlmCircuitOpenError(
            `circuit open after ${options.breakerFailures} consecutive failures; not called again for ${options.breakerHalfOpenAfterMs} ms`,
            details,
          );
        }
        if (isBulkheadRejectedError(error)) {
          throw new LlmCapacityError(`${options.maxConcurrency} calls in flight and ${options.maxQueue} queued`, details);
        }
        if (isTaskCancelledError(error)) throw new LlmAbortedError(undefined, details);
        throw error;
      }
    },
    circuit() {
      if (breaker.state === CircuitState.Closed) return 'closed';
      return breaker.state === CircuitState.HalfOpen ? 'half-open' : 'open';
    },
  };
}
