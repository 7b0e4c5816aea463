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
import { WebSearchError } from './web-search.errors.js';

/** How one provider is called. Every field has the default shown. */
export interface SearchPolicySettings {
  /** Longest one attempt may take. Default: 10 000 ms. */
  timeoutMs?: number;
  /** Retries of a retryable failure (429, 5xx, network, timeout). Default: 2. */
  maxRetries?: number;
  /** First backoff; doubles with jitter up to `retryMaxDelayMs`. Default: 250 ms. */
  retryInitialDelayMs?: number;
  /** Default: 5 000 ms. */
  retryMaxDelayMs?: number;
  /** A 429 asking to wait longer than this is not retried (the next provider is faster). Default: 10 000 ms. */
  maxRetryAfterMs?: number;
  /** Consecutive failures that open the circuit. Default: 5. */
  breakerFailures?: number;
  /** How long an open circuit refuses calls before one is tried. Default: 30 000 ms. */
  breakerHalfOpenAfterMs?: number;
  /** Queries on the wire at once to this provider; more wait their turn. Default: 10. */
  maxConcurrency?: number;
  /** Queries waiting for a slot before new ones are refused. Default: 10 000. */
  maxQueue?: number;
}

export interface SearchPolicy {
  /** Runs one call under retry → circuit breaker → concurrency cap → timeout. */
  execute<Result>(call: (signal: AbortSignal) => Promise<Result>, signal?: AbortSignal): Promise<Result>;
  circuit(): 'closed' | 'open' | 'half-open';
}

/** Exponential backoff with jitter, stretched to the provider's Retry-After when it gave one. */
function honourRetryAfter(exponential: IBackoffFactory<unknown>): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const step = (curve: IBackoff<unknown>, context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> => {
    const error = 'error' in context.result ? context.result.error : undefined;
    const retryAfterMs = error instanceof WebSearchError ? (error.retryAfterMs ?? 0) : 0;
    return { duration: Math.max(curve.duration, retryAfterMs), next: (nextContext) => step(curve.next(nextContext), nextContext) };
  };
  return { next: (context) => step(exponential.next(context), context) };
}

/**
 * The resilience of one search provider, as the LLM layer does it for models: retries only for
 * retryable failures and at the pace the provider asks for, a circuit breaker so a provider that is
 * down costs nothing per query (failover is immediate), a bulkhead so one slow provider holds only
 * its own slots, and a timeout per attempt.
 */
export function createSearchPolicy(provider: string, settings: SearchPolicySettings = {}): SearchPolicy {
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const maxRetryAfterMs = settings.maxRetryAfterMs ?? 10_000;
  const breakerFailures = settings.breakerFailures ?? 5;
  const breakerHalfOpenAfterMs = settings.breakerHalfOpenAfterMs ?? 30_000;
  const maxConcurrency = settings.maxConcurrency ?? 10;
  const maxQueue = settings.maxQueue ?? 10_000;

  const retryable = (error: unknown) => error instanceof WebSearchError && error.isRetryable && (error.retryAfterMs ?? 0) <= maxRetryAfterMs;
  // A refused key is the provider being unusable, like an outage; a refused query is about that query only.
  const providerFault = (error: unknown) => retryable(error) || (error instanceof WebSearchError && error.code === 'SEARCH_UNAUTHORIZED');

  const retryPolicy = retry(handleWhen(retryable), {
    maxAttempts: settings.maxRetries ?? 2,
    backoff: honourRetryAfter(new ExponentialBackoff({ initialDelay: settings.retryInitialDelayMs ?? 250, maxDelay: settings.retryMaxDelayMs ?? 5_000 })),
  });
  const breaker = circuitBreaker(handleWhen(providerFault), { halfOpenAfter: breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(breakerFailures) });
  const bulkheadPolicy = bulkhead(maxConcurrency, maxQueue);
  // Not aborted once the call has returned (there is nothing left to stop): aborting builds an
  // AbortError for every call, which showed in profiles of a busy enrichment job.
  const timeoutPolicy = timeout(timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });

  const timed = async <Result>(call: (signal: AbortSignal) => Promise<Result>, signal: AbortSignal): Promise<Result> => {
    try {
      return await timeoutPolicy.execute(({ signal: attemptSignal }) => call(attemptSignal), signal);
    } catch (error) {
      if (isTaskCancelledError(error) || (error instanceof WebSearchError && error.code === 'SEARCH_ABORTED')) {
        if (signal.aborted) throw new WebSearchError('SEARCH_ABORTED', `The ${provider} search was cancelled.`, false, provider);
        throw new WebSearchError('SEARCH_TIMEOUT', `${provider} did not answer within ${timeoutMs / 1000} s.`, true, provider);
      }
      throw error;
    }
  };

  return {
    async execute(call, signal = new AbortController().signal) {
      try {
        return await retryPolicy.execute(() => breaker.execute(() => bulkheadPolicy.execute(() => timed(call, signal), signal), signal), signal);
      } catch (error) {
        if (isBrokenCircuitError(error)) {
          throw new WebSearchError('SEARCH_CIRCUIT_OPEN', `${provider} failed ${breakerFailures} times in a row; it is not asked again for ${breakerHalfOpenAfterMs / 1000} s.`, true, provider);
        }
        if (isBulkheadRejectedError(error)) throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${provider} has ${maxConcurrency} searches in flight and ${maxQueue} waiting.`, true, provider);
        if (isTaskCancelledError(error)) throw new WebSearchError('SEARCH_ABORTED', `The ${provider} search was cancelled.`, false, provider);
        throw error;
      }
    },
    circuit() {
      if (breaker.state === CircuitState.Closed) return 'closed';
      if (breaker.state === CircuitState.HalfOpen) return 'half-open';
      return 'open';
    },
  };
}
