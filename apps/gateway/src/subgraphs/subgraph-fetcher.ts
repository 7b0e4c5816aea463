import { request, type Agent } from 'undici';

/** One fetch of a subgraph: a GraphQL request, already serialized. */
export interface SubgraphFetch {
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The JSON body: query, variables, operation name. */
  body: string;
  /** When the operation the fetch belongs to must be done (`performance.now()` time), if known. */
  deadline?: number;
  /**
   * Fetches with the same merge key, URL and body in flight at the same moment are sent once;
   * undefined sends this fetch on its own.
   */
  mergeKey?: string;
}

/** A subgraph's answer, read whole. A merged fetch hands the same answer to every request that made it. */
export interface SubgraphAnswer {
  status: number;
  /** As undici parses them: names in lower case, a repeated header as an array. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

export interface SubgraphFetcherOptions {
  agent: Agent;
  /** The longest one fetch may take, the answer's body included. */
  timeoutMs: number;
}

export type SubgraphFetcher = (fetch: SubgraphFetch) => Promise<SubgraphAnswer>;

/**
 * Fetches over undici's `request` on the shared agent. One timer per fetch, cleared the moment the
 * whole answer is in: `AbortSignal.timeout` (and WHATWG fetch's per-response cleanup) kept every
 * fetch's signal, listeners and timer alive for the full timeout after it was answered, thousands
 * of objects at a few hundred requests a second, which swelled the gateway's heap. The body is read
 * inside the timeout too, so a subgraph that stalls mid-answer is cut off as well.
 */
export function createSubgraphFetcher(options: SubgraphFetcherOptions): SubgraphFetcher {
  const send = sendingFetcher(options);
  // Only while a fetch is in flight: an answer is never kept for a later request.
  const inFlight = new Map<string, Promise<SubgraphAnswer>>();
  return (fetch) => {
    if (fetch.mergeKey === undefined) return send(fetch);
    const key = `${fetch.mergeKey}\n${fetch.url}\n${fetch.body}`;
    const pending = inFlight.get(key);
    // The answer is read whole, so each request parses its own copy of the same bytes.
    if (pending) return pending;
    const fetched = send(fetch);
    inFlight.set(key, fetched);
    // The first reaction to the answer, so the entry is gone before any caller sees it; the
    // caller gets the fetch's own promise, without a `finally` link (and its ticks) in between.
    const forget = () => inFlight.delete(key);
    fetched.then(forget, forget);
    return fetched;
  };
}

function sendingFetcher(options: SubgraphFetcherOptions) {
  return async (fetch: SubgraphFetch): Promise<SubgraphAnswer> => {
    // The fetch ends at the subgraph timeout or at the operation's deadline, whichever is first.
    const timeoutMs = fetch.deadline === undefined ? options.timeoutMs : Math.max(1, Math.ceil(Math.min(options.timeoutMs, fetch.deadline - performance.now())));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`the subgraph did not answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    try {
      const answer = await request(fetch.url, { method: 'POST', headers: fetch.headers, body: fetch.body, dispatcher: options.agent, signal: controller.signal });
      const body = Buffer.from(await answer.body.arrayBuffer());
      return { status: answer.statusCode, headers: answer.headers, body };
    } finally {
      clearTimeout(timer);
    }
  };
}
