import { Agent, interceptors, request, type Dispatcher } from 'undici';

/** Statuses whose answer has no body (a `Response` refuses one). */
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` for the model SDKs, made on undici's `request` over a keep-alive pool of its own.
 * The SDKs call `fetch` once per model call and read the whole JSON answer; WHATWG fetch (Node's
 * global one) builds a Request, web streams and several abort signals around every call, about a
 * third of a millisecond of CPU each, where `request` with the answer read into one buffer takes a
 * fraction of it. What the SDKs rely on is kept: method, headers, a string or byte body, the abort
 * signal, redirects followed, the answer's status and headers, a network failure as fetch's
 * `TypeError('fetch failed')` with the cause. A body of another kind (a form, a stream: file uploads)
 * goes through the global fetch, as before.
 */
export function createPooledFetch(dispatcher: Dispatcher = defaultDispatcher()): typeof fetch {
  return async function pooledFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const body = init.body;
    if (input instanceof Request || !(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)) return fetch(input, init);
    const signal = init.signal ?? undefined;
    let answer: Dispatcher.ResponseData;
    let bytes: ArrayBuffer;
    try {
      answer = await request(input, { dispatcher, method: (init.method ?? 'GET') as Dispatcher.HttpMethod, headers: headerRecord(init.headers), body: body ?? undefined, signal });
      bytes = await answer.body.arrayBuffer();
    } catch (error) {
      // fetch rejects with the abort's reason, and with a TypeError for a network failure.
      if (signal?.aborted) throw signal.reason ?? error;
      throw new TypeError('fetch failed', { cause: error });
    }
    const headers: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) for (const each of value) headers.push([name, each]);
      else if (value !== undefined) headers.push([name, value]);
    }
    return new Response(nullBodyStatuses.has(answer.statusCode) ? null : bytes, { status: answer.statusCode, headers });
  } as typeof fetch;
}

let shared: Dispatcher | undefined;
/** One pool for every model client of the process, as the global fetch has one. */
function defaultDispatcher(): Dispatcher {
  shared ??= new Agent({ keepAliveTimeout: 30_000 }).compose(interceptors.redirect({ maxRedirections: 20 }));
  return shared;
}

function headerRecord(headers: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  if (headers instanceof Headers) {
    for (const [name, value] of headers) record[name] = value;
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers) record[name!.toLowerCase()] = value!;
  } else {
    for (const [name, value] of Object.entries(headers)) record[name.toLowerCase()] = value;
  }
  return record;
}
