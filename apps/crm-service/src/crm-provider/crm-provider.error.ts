import type { CrmProvider } from './crm-provider.js';

/**
 * What went wrong talking to a provider, as the sync acts on it:
 * - `unauthorized`: the credentials were refused or revoked (the connection needs new ones);
 * - `forbidden`: the credentials lack a permission (scope) the call needs;
 * - `rate-limited`: slow down and retry after `retryAfterMs`;
 * - `daily-limit`: the provider's daily cap is spent; nothing more until `resumeAt`;
 * - `not-found`: the record does not exist (any more);
 * - `invalid-record`: the provider refused this record's values (a poisoned record);
 * - `unavailable`: the provider failed or could not be reached (5xx, timeout, refused connection);
 * - `malformed-response`: the provider answered with something that is not its API (HTML, garbage);
 * - `refused-address`: the base URL leads to an address we never call (SSRF rules).
 */
export type CrmErrorKind = 'unauthorized' | 'forbidden' | 'rate-limited' | 'daily-limit' | 'not-found' | 'invalid-record' | 'unavailable' | 'malformed-response' | 'refused-address';

export interface CrmProviderErrorOptions {
  /** The HTTP status the provider answered, if it answered. */
  status?: number | null;
  /** How long to wait before trying again, from Retry-After or the provider's rate-limit headers. */
  retryAfterMs?: number | null;
  /** For `daily-limit`: when the cap resets. */
  resumeAt?: Date | null;
  cause?: unknown;
}

/** The one error type adapters throw. The message names the provider's own answer, never a credential. */
export class CrmProviderError extends Error {
  override readonly name = 'CrmProviderError';
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly resumeAt: Date | null;

  constructor(
    readonly provider: CrmProvider,
    readonly kind: CrmErrorKind,
    message: string,
    options: CrmProviderErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.resumeAt = options.resumeAt ?? null;
  }

  /** Worth trying again soon: a rate limit or a passing failure. A daily cap is waited out, not retried. */
  get isRetryable(): boolean {
    return this.kind === 'rate-limited' || this.kind === 'unavailable';
  }
}

export function isCrmProviderError(error: unknown): error is CrmProviderError {
  return error instanceof CrmProviderError;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; null when absent or unreadable. */
export function retryAfterMsOf(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The kind a plain HTTP status stands for, when the provider says nothing more specific. */
export function kindOfStatus(status: number): CrmErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status === 408 || status >= 500) return 'unavailable';
  return 'invalid-record';
}

/** The next midnight UTC: when a provider that does not say otherwise resets its daily cap. */
export function nextUtcMidnight(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** A provider's own words, cut short and stripped of anything that looks like markup. */
export function providerWords(text: string, maximum = 300): string {
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain.length > maximum ? `${plain.slice(0, maximum)}…` : plain;
}
