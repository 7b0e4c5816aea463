import { request, type Dispatcher } from 'undici';
import { CrmProvider } from '../crm-provider.js';
import { CrmProviderError, kindOfStatus, providerWords, retryAfterMsOf } from '../crm-provider.error.js';

/** Close has no maintained SDK: these are the shapes of its REST API v1 this client uses. */
export interface CloseContact {
  id: string;
  lead_id: string;
  name: string | null;
  title: string | null;
  emails: Array<{ email: string; type?: string }>;
  phones: Array<{ phone: string; type?: string }>;
  date_updated: string;
}

export interface CloseLead {
  id: string;
  name: string | null;
  url: string | null;
  date_updated?: string;
  contacts?: CloseContact[];
}

export interface CloseEvent {
  id: string;
  object_type: string;
  object_id: string;
  action: string;
  date_updated: string;
}

export interface CloseMe {
  id: string;
  email: string;
  organizations: Array<{ id: string; name: string }>;
}

/** Past this, a Retry-After is a cap to wait out (a pause), not a retry. */
const longestRetryWaitMs = 15 * 60 * 1000;

/**
 * A small typed client of Close's REST API v1 on undici: basic auth with the API key, JSON in and
 * out, and every failure turned into a `CrmProviderError` carrying Close's own words and its
 * Retry-After.
 */
export class CloseClient {
  private readonly authorization: string;

  constructor(
    private readonly baseUrl: string,
    apiKey: string,
    private readonly dispatcher: Dispatcher,
  ) {
    this.authorization = `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`;
  }

  async call<Answer>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { query?: Record<string, string | number | undefined>; body?: unknown; signal?: AbortSignal } = {}): Promise<Answer> {
    const url = new URL(`${this.baseUrl}/api/v1${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(url, {
        method,
        dispatcher: this.dispatcher,
        headers: { authorization: this.authorization, accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal ?? AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof CrmProviderError) throw cause;
      if (error instanceof CrmProviderError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? (cause as NodeJS.ErrnoException | undefined)?.code;
      throw new CrmProviderError(CrmProvider.CLOSE, 'unavailable', `Close could not be reached${code ? ` (${code})` : ''}.`, { cause: error });
    }
    const text = await answer.body.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    const status = answer.statusCode;
    if (status >= 200 && status < 300) {
      if (parsed === undefined || typeof parsed !== 'object' || parsed === null) throw new CrmProviderError(CrmProvider.CLOSE, 'malformed-response', `Close answered ${status} with something that is not its API's JSON.`, { status });
      return parsed as Answer;
    }
    const words = closeWords(parsed, text, status);
    if (status === 429) {
      const body = parsed as { error?: { rate_reset?: number } } | undefined;
      const retryAfterMs = retryAfterMsOf(answer.headers['retry-after'] as string | undefined) ?? (body?.error?.rate_reset ? Math.round(body.error.rate_reset * 1000) : null);
      if (retryAfterMs !== null && retryAfterMs > longestRetryWaitMs) {
        throw new CrmProviderError(CrmProvider.CLOSE, "daily-limit", `Close's API limit is spent for a while: ${words}`, { status, resumeAt: new Date(Date.now() + retryAfterMs) });
      }
      throw new CrmProviderError(CrmProvider.CLOSE, 'rate-limited', `Close is rate limiting: ${words}`, { status, retryAfterMs });
    }
    if (parsed === undefined && status < 500) throw new CrmProviderError(CrmProvider.CLOSE, 'malformed-response', `Close answered ${status} with an HTML page instead of JSON.`, { status });
    throw new CrmProviderError(CrmProvider.CLOSE, kindOfStatus(status), status === 401 ? `Close refused the API key: ${words}` : `Close answered ${status}: ${words}`, { status });
  }
}

/** Close's error answer in its own words: `error` (text or an object with a message) and `field-errors`. */
function closeWords(parsed: unknown, text: string, status: number): string {
  const body = parsed as { error?: string | { message?: string }; 'field-errors'?: unknown } | undefined;
  if (body && typeof body === 'object') {
    const error = typeof body.error === 'string' ? body.error : body.error?.message;
    const fields = body['field-errors'] ? ` ${JSON.stringify(body['field-errors'])}` : '';
    if (error || fields) return providerWords(`${error ?? 'invalid values'}${fields}`);
  }
  return text ? providerWords(text) : `HTTP ${status}`;
}
