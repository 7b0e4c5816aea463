import { DelegateBackoff, handleWhen, retry, type IRetryBackoffContext, type RetryPolicy } from 'cockatiel';
import { isCrmProviderError } from './crm-provider.error.js';

export interface ProviderRetrySettings {
  /** Calls in all, the first included. Default: 6. */
  maxAttempts?: number;
  /** First wait when the provider gives no hint; doubles each time, with jitter. Default: 500 ms. */
  baseDelayMs?: number;
  /** Longest single wait, whatever Retry-After says (a longer one fails the call, to be retried by the job). Default: 60 000 ms. */
  maximumDelayMs?: number;
}

/**
 * Retries what a provider says is worth retrying (rate limits, passing failures), waiting what it
 * asks for — Retry-After or its rate-limit headers, as the adapter read them — and otherwise
 * backing off exponentially with jitter. Nothing else is retried: a refused record, revoked
 * credentials or a spent daily cap fail at once.
 */
export function createProviderRetry(settings: ProviderRetrySettings = {}): RetryPolicy {
  const baseDelayMs = settings.baseDelayMs ?? 500;
  const maximumDelayMs = settings.maximumDelayMs ?? 60_000;
  const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>>((context) => {
    const error = 'error' in context.result ? context.result.error : undefined;
    const hinted = isCrmProviderError(error) ? error.retryAfterMs : null;
    if (hinted !== null) return Math.min(hinted, maximumDelayMs);
    const exponential = Math.min(maximumDelayMs, baseDelayMs * 2 ** (context.attempt - 1));
    return Math.round(exponential * (0.5 + Math.random() / 2));
  });
  return retry(
    handleWhen((error) => isCrmProviderError(error) && error.isRetryable),
    { maxAttempts: (settings.maxAttempts ?? 6) - 1, backoff },
  );
}
