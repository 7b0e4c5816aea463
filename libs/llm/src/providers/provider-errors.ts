import { LlmAbortedError, LlmError, LlmProviderError, LlmRateLimitedError, LlmTimeoutError, redactSecrets, type LlmErrorDetails } from '../llm.errors.js';

type ErrorClass = abstract new (...parameters: any[]) => Error;

/** The error classes both official SDKs (openai, @anthropic-ai/sdk) export under the same names. */
export interface SdkErrorClasses {
  APIError: ErrorClass;
  APIUserAbortError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
}

/** Milliseconds from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function shortened(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * An SDK error as an LlmError. Retryable: 408, 409, 429, 5xx (Anthropic's 529 "overloaded"
 * included), network failures and timeouts; everything else (400, 401, 403, 404, 422…) is not.
 * The provider's message is kept, redacted: a 401 from OpenAI quotes part of the key.
 */
export function toLlmError(error: unknown, classes: SdkErrorClasses, details: Required<Pick<LlmErrorDetails, 'provider' | 'model'>>, secrets: readonly string[]): LlmError {
  if (error instanceof LlmError) return error;
  const message = (text: string) => shortened(redactSecrets(text, secrets));
  if (error instanceof classes.APIUserAbortError) return new LlmAbortedError(undefined, details);
  if (error instanceof classes.APIConnectionTimeoutError) return new LlmTimeoutError('the HTTP request timed out', details);
  if (error instanceof classes.APIConnectionError) {
    const cause = (error as { cause?: unknown }).cause;
    const reason = cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
    return new LlmProviderError(`could not reach the provider: ${message(reason)}`, undefined, true, details);
  }
  if (error instanceof classes.APIError) {
    const { status, headers, error: body, apiMessage } = error as unknown as { status?: number; headers?: Headers; error?: any; apiMessage?: string | null };
    // The provider's own sentence: OpenAI's `{error:{message}}`, Anthropic's `{type:"error",error:{message}}`.
    const said = apiMessage ?? body?.error?.message ?? body?.message ?? error.message;
    const text = message(typeof said === 'string' ? said : JSON.stringify(said));
    if (status === 429) return new LlmRateLimitedError(`rate limited (HTTP 429): ${text}`, retryAfterMs(headers), details);
    const retryable = status === undefined || status === 408 || status === 409 || status >= 500;
    return new LlmProviderError(`HTTP ${status ?? 'error'}: ${text}`, status, retryable, details);
  }
  if (error instanceof Error && error.name === 'AbortError') return new LlmAbortedError(undefined, details);
  return new LlmProviderError(`unexpected error: ${message(error instanceof Error ? error.message : String(error))}`, undefined, false, details);
}
