/** Stable codes callers may branch on. */
export type WebSearchErrorCode =
  /** HTTP 429: the provider's rate limit or quota; `retryAfterMs` says when to ask again. */
  | 'SEARCH_RATE_LIMITED'
  /** The key is missing, wrong, or its plan does not cover the call (401, 403, Brave's 422 token errors). */
  | 'SEARCH_UNAUTHORIZED'
  /** The provider refused this query (400): asking again will not help. */
  | 'SEARCH_BAD_REQUEST'
  /** A 5xx, a network failure or an answer that is not the provider's format. */
  | 'SEARCH_PROVIDER_ERROR'
  | 'SEARCH_TIMEOUT'
  /** The provider failed often enough in a row that it is not asked for a while. */
  | 'SEARCH_CIRCUIT_OPEN'
  | 'SEARCH_ABORTED'
  /** No provider is configured, or every configured provider failed (`failures` says how). */
  | 'SEARCH_UNAVAILABLE';

/**
 * Every failure of web search. `isRetryable` says whether the same query may succeed later: the
 * retry policy and the enrichment step branch on it. Messages name the provider and never carry
 * a key.
 */
export class WebSearchError extends Error {
  override name = 'WebSearchError';

  constructor(
    readonly code: WebSearchErrorCode,
    message: string,
    readonly isRetryable: boolean,
    readonly provider: string | undefined,
    readonly details: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
  }

  get retryAfterMs(): number | undefined {
    return this.details.retryAfterMs;
  }
}

/** Every provider in the failover order failed; each one's error is kept. */
export class WebSearchUnavailableError extends WebSearchError {
  override name = 'WebSearchUnavailableError';

  constructor(readonly failures: WebSearchError[]) {
    super(
      'SEARCH_UNAVAILABLE',
      failures.length === 0
        ? 'No web-search provider is configured (SEARCH_PROVIDERS, SERPER_API_KEY, BRAVE_SEARCH_API_KEY).'
        : failures.length === 1
          ? failures[0]!.message
          : `Every web-search provider failed: ${failures.map((failure) => failure.message).join('; ')}`,
      failures.some((failure) => failure.isRetryable),
      undefined,
    );
  }
}

/** Seconds or an HTTP date (`Retry-After`), in milliseconds; undefined when absent or unreadable. */
export function retryAfterMsOf(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = Number(text.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
