import type { LlmUsage } from './llm.types.js';

/** Stable codes callers may branch on. */
export type LlmErrorCode =
  | 'LLM_RATE_LIMITED'
  | 'LLM_PROVIDER_ERROR'
  | 'LLM_TIMEOUT'
  | 'LLM_INVALID_OUTPUT'
  | 'LLM_REFUSAL'
  | 'LLM_CIRCUIT_OPEN'
  | 'LLM_CAPACITY'
  | 'LLM_ABORTED'
  | 'LLM_NOT_CONFIGURED'
  | 'LLM_UNAVAILABLE';

export interface LlmErrorDetails {
  provider?: string;
  model?: string;
  /** Tokens the failed call still consumed (a refusal is billed like an answer). */
  usage?: LlmUsage;
}

/**
 * Every failure of the LLM layer. `isRetryable` says whether the same call may succeed later
 * (rate limits, 5xx, network, timeouts), which is what the retry policy and callers branch on.
 * Messages never carry API keys: provider messages are redacted before they get here.
 */
export class LlmError extends Error {
  override name = 'LlmError';
  readonly provider: string | undefined;
  readonly model: string | undefined;
  readonly usage: LlmUsage | undefined;

  constructor(
    readonly code: LlmErrorCode,
    message: string,
    readonly isRetryable: boolean,
    details: LlmErrorDetails = {},
  ) {
    super(message);
    this.provider = details.provider;
    this.model = details.model;
    this.usage = details.usage;
  }
}

/** HTTP 429. `retryAfterMs` comes from the provider's `retry-after-ms` or `Retry-After` header. */
export class LlmRateLimitedError extends LlmError {
  override name = 'LlmRateLimitedError';
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    details: LlmErrorDetails = {},
  ) {
    super('LLM_RATE_LIMITED', message, true, details);
  }
}

/** The provider answered with an HTTP error, or could not be reached (`status` undefined). */
export class LlmProviderError extends LlmError {
  override name = 'LlmProviderError';
  constructor(
    message: string,
    readonly status: number | undefined,
    isRetryable: boolean,
    details: LlmErrorDetails = {},
  ) {
    super('LLM_PROVIDER_ERROR', message, isRetryable, details);
  }
}

export class LlmTimeoutError extends LlmError {
  override name = 'LlmTimeoutError';
  constructor(message: string, details: LlmErrorDetails = {}) {
    super('LLM_TIMEOUT', message, true, details);
  }
}

/** The answer did not match the task's schema, even after repair and one corrective re-ask. */
export class LlmInvalidOutputError extends LlmError {
  override name = 'LlmInvalidOutputError';
  constructor(
    message: string,
    readonly issues: string[],
    details: LlmErrorDetails = {},
  ) {
    super('LLM_INVALID_OUTPUT', message, false, details);
  }
}

/** The model declined to answer. Retrying the same prompt on the same model would not help. */
export class LlmRefusalError extends LlmError {
  override name = 'LlmRefusalError';
  constructor(
    message: string,
    readonly refusal: string,
    details: LlmErrorDetails = {},
  ) {
    super('LLM_REFUSAL', message, false, details);
  }
}

/** The provider's circuit breaker is open: it failed repeatedly and is not called for a while. */
export class LlmCircuitOpenError extends LlmError {
  override name = 'LlmCircuitOpenError';
  constructor(message: string, details: LlmErrorDetails = {}) {
    super('LLM_CIRCUIT_OPEN', message, true, details);
  }
}

/** The provider's concurrency cap and queue are both full. */
export class LlmCapacityError extends LlmError {
  override name = 'LlmCapacityError';
  constructor(message: string, details: LlmErrorDetails = {}) {
    super('LLM_CAPACITY', message, true, details);
  }
}

/** The caller's AbortSignal fired. */
export class LlmAbortedError extends LlmError {
  override name = 'LlmAbortedError';
  constructor(message = 'The LLM call was aborted by its caller.', details: LlmErrorDetails = {}) {
    super('LLM_ABORTED', message, false, details);
  }
}

/** Nothing can answer this kind of call: e.g. free text with only the offline provider. */
export class LlmNotConfiguredError extends LlmError {
  override name = 'LlmNotConfiguredError';
  constructor(message: string, details: LlmErrorDetails = {}) {
    super('LLM_NOT_CONFIGURED', message, false, details);
  }
}

export interface LlmProviderFailure {
  provider: string;
  model: string;
  error: LlmError;
}

/** Every provider in the chain failed. The message names each provider and why; `failures` has the errors. */
export class LlmUnavailableError extends LlmError {
  override name = 'LlmUnavailableError';
  constructor(
    readonly task: string,
    readonly failures: LlmProviderFailure[],
  ) {
    const reasons = failures.length === 0 ? ' no provider is configured' : failures.map((failure) => `\n  - ${failure.provider} (${failure.model}): ${failure.error.message}`).join('');
    super(
      'LLM_UNAVAILABLE',
      `No LLM provider could answer task "${task}":${reasons}`,
      failures.some((failure) => failure.error.isRetryable),
    );
  }
}

/** Replaces each secret, and anything shaped like a provider key, with `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let redacted = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) redacted = redacted.split(secret).join('[redacted]');
  }
  // Providers echo part of a wrong key ("Incorrect API key provided: sk-abc…xyz"); never pass it on.
  return redacted.replace(/\b(sk|sk-ant|sk-proj|rk)-[A-Za-z0-9_*.-]{6,}/g, '[redacted]');
}
