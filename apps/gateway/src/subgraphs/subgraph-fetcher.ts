import { STATUS_CODES } from 'node:http';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { request, type Agent } from 'undici';

type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type FetcherHeaders = FetcherResponse['headers'];

export interface SubgraphFetchScope {
  /** When the operation the fetch belongs to must be done (`performance.now()` time), if known. */
  deadline: number | undefined;
  /**
   * Fetches with the same merge key, URL and body (query, variables, operation name) in flight at
   * the same moment are sent once; undefined sends this fetch on its own.
   */
  mergeKey: string | undefined;
}

export interface SubgraphFetcherOptions {
  agent: Agent;
  /** The longest one fetch may take, the answer's body included. */
  timeoutMs: number;
  /** The operation the fetch belongs to, if known. */
  scope: () => SubgraphFetchScope | undefined;
}

type AnswerHeaderFields = Record<string, string | string[] | undefined>;

/**
 * A subgraph answer's headers, over the object undici parses them into (names in lower case). Apollo's
 * data source reads two of them per fetch (content-type, cache-control); a WHATWG `Headers` checked
 * and copied every header of every answer first, which showed in the gateway's CPU per request. A
 * header reads and iterates as `Headers` gives it.
 */
export class AnswerHeaders implements FetcherHeaders {
  constructor(private readonly fields: AnswerHeaderFields) {}

  get(name: string): string | null {
    const key = name.toLowerCase();
    if (!Object.hasOwn(this.fields, key)) return null;
    const value = this.fields[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  set(name: string, value: string): void {
    this.fields[name.toLowerCase()] = value;
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const current = Object.hasOwn(this.fields, key) ? this.fields[key] : undefined;
    this.fields[key] = current === undefined ? value : [...(Array.isArray(current) ? current : [current]), value];
  }

  delete(name: string): void {
    delete this.fields[name.toLowerCase()];
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.fields).toSorted()) {
      const value = this.fields[name];
      if (value === undefined) continue;
      // As `Headers` does: each cookie on its own, every other repeated header joined.
      if (name === 'set-cookie' && Array.isArray(value)) for (const cookie of value) yield [name, cookie];
      else yield [name, Array.isArray(value) ? value.join(', ') : value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** A subgraph's answer, read whole: what Apollo's data source reads of it (status, headers, JSON). */
function bufferedResponse(url: string, status: number, headers: FetcherHeaders, body: Buffer): FetcherResponse {
  const response: FetcherResponse = {
    bodyUsed: false,
    url,
    redirected: false,
    status,
    ok: status >= 200 && status < 300,
    statusText: STATUS_CODES[status] ?? '',
    headers,
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
    text: async () => body.toString('utf8'),
    json: async () => JSON.parse(body.toString('utf8')) as unknown,
    clone: () => response,
  };
  return response;
}

/**
 * Apollo's fetcher over undici's `request` on the shared agent. One timer per fetch, cleared the
 * moment the whole answer is in: `AbortSignal.timeout` (and WHATWG fetch's per-response cleanup)
 * kept every fetch's signal, listeners and timer alive for the full timeout after it was answered,
 * thousands of objects at a few hundred requests a second, which swelled the gateway's heap. The
 * body is read inside the timeout too, so a subgraph that stalls mid-answer is cut off as well.
 */
export function createSubgraphFetcher(options: SubgraphFetcherOptions): Fetcher {
  const send = sendingFetcher(options);
  // Only while a fetch is in flight: an answer is never kept for a later request.
  const inFlight = new Map<string, Promise<FetcherResponse>>();
  return (url, init = {}) => {
    const scope = options.scope();
    if (scope?.mergeKey === undefined || typeof init.body !== 'string') return send(url, init, scope);
    const key = `${scope.mergeKey}\n${url}\n${init.body}`;
    const pending = inFlight.get(key);
    // The answer is read whole, so each caller parses its own copy of the same bytes.
    if (pending) return pending;
    const fetched = send(url, init, scope);
    inFlight.set(key, fetched);
    // The first reaction to the answer, so the entry is gone before any caller sees it; the
    // caller gets the fetch's own promise, without a `finally` link (and its ticks) in between.
    const forget = () => inFlight.delete(key);
    fetched.then(forget, forget);
    return fetched;
  };
}

function sendingFetcher(options: SubgraphFetcherOptions) {
  return async (url: string, init: NonNullable<Parameters<Fetcher>[1]>, scope: SubgraphFetchScope | undefined): Promise<FetcherResponse> => {
    // The fetch ends at the subgraph timeout or at the operation's deadline, whichever is first.
    const deadline = scope?.deadline;
    const timeoutMs = deadline === undefined ? options.timeoutMs : Math.max(1, Math.ceil(Math.min(options.timeoutMs, deadline - performance.now())));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`the subgraph did not answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    try {
      const answer = await request(url, {
        method: (init.method ?? 'POST') as 'POST',
        headers: init.headers,
        body: init.body,
        dispatcher: options.agent,
        signal: controller.signal,
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      return bufferedResponse(url, answer.statusCode, new AnswerHeaders(answer.headers), body);
    } finally {
      clearTimeout(timer);
    }
  };
}
