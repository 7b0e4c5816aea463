import { Agent, request, type Dispatcher } from 'undici';
import { retryAfterMsOf, WebSearchError } from './web-search.errors.js';

/** Keep-alive connections to one provider's API. */
export function createSearchAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections: 32 });
}

export interface SearchHttpCall {
  provider: string;
  dispatcher: Dispatcher;
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Reads a rate-limited answer's wait, when the provider says it another way than Retry-After. */
  retryAfterMs?: (headers: Record<string, string | string[] | undefined>) => number | undefined;
  /** The provider's own error message in a JSON error body. */
  errorMessage?: (body: unknown) => string | undefined;
}

const maximumAnswerBytes = 2 * 1024 * 1024;

/**
 * One HTTP call to a search API, its failures turned into `WebSearchError`s: 429 rate limited
 * (with its wait), 401/403 unauthorized, other 4xx a refused query, 5xx and network failures
 * retryable. Returns the parsed JSON body of a 2xx answer.
 */
export async function callSearchApi(call: SearchHttpCall): Promise<unknown> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, { dispatcher: call.dispatcher, method: call.method, headers: call.headers, body: call.body, signal: call.signal });
  } catch (error) {
    if (call.signal.aborted) throw new WebSearchError('SEARCH_ABORTED', `The ${call.provider} search was cancelled.`, false, call.provider);
    const code = (error as NodeJS.ErrnoException).code ?? ((error as { cause?: NodeJS.ErrnoException }).cause?.code);
    throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${call.provider} could not be reached${code ? ` (${code})` : ''}.`, true, call.provider);
  }
  let text = '';
  try {
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > maximumAnswerBytes) {
        response.body.destroy();
        throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${call.provider} answered more than ${maximumAnswerBytes / 1024 / 1024} MiB.`, false, call.provider);
      }
      text += (chunk as Buffer).toString('utf8');
    }
  } catch (error) {
    if (error instanceof WebSearchError) throw error;
    if (call.signal.aborted) throw new WebSearchError('SEARCH_ABORTED', `The ${call.provider} search was cancelled.`, false, call.provider);
    throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${call.provider} broke off its answer.`, true, call.provider);
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const status = response.statusCode;
  if (status >= 200 && status < 300) {
    if (body === undefined) throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${call.provider} answered ${status} without JSON.`, true, call.provider, { status });
    return body;
  }
  const said = call.errorMessage?.(body);
  const because = said ? `: ${said.slice(0, 200)}` : '';
  if (status === 429) {
    const retryAfterMs = retryAfterMsOf(response.headers['retry-after']) ?? call.retryAfterMs?.(response.headers);
    const wait = retryAfterMs === undefined ? '' : ` (try again in ${Math.ceil(retryAfterMs / 1000)} s)`;
    throw new WebSearchError('SEARCH_RATE_LIMITED', `${call.provider} rate limit reached${wait}${because}`, true, call.provider, { status, retryAfterMs });
  }
  if (status === 401 || status === 403) throw new WebSearchError('SEARCH_UNAUTHORIZED', `${call.provider} refused the API key (HTTP ${status})${because}`, false, call.provider, { status });
  if (status >= 500 || status === 408) throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${call.provider} answered HTTP ${status}${because}`, true, call.provider, { status });
  throw new WebSearchError('SEARCH_BAD_REQUEST', `${call.provider} refused the query (HTTP ${status})${because}`, false, call.provider, { status });
}

/** Markup some providers put in snippets (`<strong>`), and the entities around it, as plain text. */
export function plainSnippet(text: string): string {
  return text
    .replace(/<[^>]{0,100}>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
