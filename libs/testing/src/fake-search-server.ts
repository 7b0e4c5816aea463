import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A page the fake search engine knows: what a result shows of it. */
export interface SearchDocument {
  url: string;
  title: string;
  snippet: string;
}

interface FakeSearchReplyCommon {
  /** Wait this long before answering (on top of the server's own `delayMs`). */
  delayMs?: number;
}

/** What the fake does with one query, rendered in the provider's own wire format. */
export type FakeSearchReply =
  /** These results, in this order (the index's ranking is skipped). */
  | (FakeSearchReplyCommon & { results: SearchDocument[] })
  /** The index's own ranking of the query (the default). */
  | (FakeSearchReplyCommon & { rank: true })
  /** An HTTP error with the provider's error body; a 429 carries the provider's rate-limit headers. */
  | (FakeSearchReplyCommon & { status: number; message?: string; retryAfterSeconds?: number })
  /** The connection is dropped without an answer. */
  | (FakeSearchReplyCommon & { disconnect: true });

/** One query as the fake received it, in arrival order. */
export interface FakeSearchRequest {
  index: number;
  method: string;
  path: string;
  receivedAt: number;
  headers: IncomingHttpHeaders;
  apiKey: string | undefined;
  query: string;
  count: number;
  country: string | undefined;
}

export interface FakeSearchServerOptions {
  /** The pages the engine ranks for a query. Default: none (every query finds nothing). */
  documents?: readonly SearchDocument[];
  /** The only key accepted; others are refused as the provider refuses them. Default: any key. */
  apiKey?: string;
  /** Added to every answer, like a provider's own latency. Default: 0. */
  delayMs?: number;
  /** Decides each reply once the queue is empty. Default: the index's ranking. */
  respond?: (request: FakeSearchRequest) => FakeSearchReply | Promise<FakeSearchReply>;
}

export interface FakeSearchServer extends AsyncDisposable {
  /** The base URL to configure (`SERPER_BASE_URL`, `BRAVE_SEARCH_BASE_URL`). */
  url: string;
  requests: FakeSearchRequest[];
  /** Replies used one each, in order, before the default. */
  enqueue(...replies: FakeSearchReply[]): void;
  /** Adds pages to the index. */
  index(documents: readonly SearchDocument[]): void;
  /** Ranks a query the way the engine does (for tests that want to know what it will answer). */
  rank(query: string, count?: number): SearchDocument[];
  close(): Promise<void>;
}

interface SearchProtocol {
  name: string;
  /** Reads the query from the request, or null when the path is not the provider's search. */
  parse(method: string, url: URL, body: any, headers: IncomingHttpHeaders): Pick<FakeSearchRequest, 'apiKey' | 'query' | 'count' | 'country'> | null;
  success(request: FakeSearchRequest, results: SearchDocument[]): unknown;
  error(status: number, message: string | undefined): unknown;
  errorHeaders(status: number, retryAfterSeconds: number | undefined): Record<string, string>;
  unauthorized: { status: number; body: unknown };
}

const stopWords = new Set(['the', 'and', 'of', 'a', 'an', 'in', 'at', 'for', 'inc', 'llc', 'co', 'corp', 'company', 'ltd', 'website', 'official']);
const tokensOf = (text: string) => text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, ' ').split(' ').filter((token) => token.length > 1 && !stopWords.has(token));

/**
 * A small search engine: a document scores by how many of the query's words its title (twice),
 * snippet and address contain; ties keep the order the documents were indexed in, so a test
 * decides what ranks first among equals (a directory listing above the company's own site, as
 * real engines often do).
 */
function createIndex(initial: readonly SearchDocument[]) {
  const documents: Array<{ document: SearchDocument; title: Set<string>; rest: Set<string> }> = [];
  const add = (document: SearchDocument) => documents.push({ document, title: new Set(tokensOf(document.title)), rest: new Set([...tokensOf(document.snippet), ...tokensOf(document.url)]) });
  initial.forEach(add);
  return {
    add,
    rank(query: string, count = 10): SearchDocument[] {
      const words = [...new Set(tokensOf(query))];
      if (words.length === 0) return [];
      return documents
        .map((entry, order) => ({ entry, order, score: words.reduce((sum, word) => sum + (entry.title.has(word) ? 2 : 0) + (entry.rest.has(word) ? 1 : 0), 0) }))
        .filter((candidate) => candidate.score >= Math.max(2, words.length / 2))
        .toSorted((left, right) => right.score - left.score || left.order - right.order)
        .slice(0, count)
        .map((candidate) => candidate.entry.document);
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += (chunk as Buffer).toString('utf8');
  return body;
}

async function startFakeSearchServer(protocol: SearchProtocol, options: FakeSearchServerOptions): Promise<FakeSearchServer> {
  const engine = createIndex(options.documents ?? []);
  const queue: FakeSearchReply[] = [];
  const requests: FakeSearchRequest[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://fake-search');
      const text = await readBody(request);
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const parsed = protocol.parse(request.method ?? 'GET', url, body, request.headers);
      if (!parsed) {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(protocol.error(404, 'Not found.')));
        return;
      }
      const received: FakeSearchRequest = { index: requests.length, method: request.method ?? 'GET', path: url.pathname, receivedAt: Date.now(), headers: request.headers, ...parsed };
      requests.push(received);
      if (options.apiKey !== undefined && parsed.apiKey !== options.apiKey) {
        response.writeHead(protocol.unauthorized.status, { 'content-type': 'application/json' }).end(JSON.stringify(protocol.unauthorized.body));
        return;
      }
      const reply = queue.shift() ?? (await options.respond?.(received)) ?? { rank: true };
      const delay = (options.delayMs ?? 0) + (reply.delayMs ?? 0);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if ('disconnect' in reply) {
        request.socket.destroy();
        return;
      }
      if ('status' in reply) {
        response.writeHead(reply.status, { 'content-type': 'application/json', ...protocol.errorHeaders(reply.status, reply.retryAfterSeconds) }).end(JSON.stringify(protocol.error(reply.status, reply.message)));
        return;
      }
      const results = 'results' in reply ? reply.results.slice(0, parsed.count) : engine.rank(parsed.query, parsed.count);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(protocol.success(received, results)));
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(protocol.error(500, String(error))));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    index: (documents) => documents.forEach(engine.add),
    rank: (query, count) => engine.rank(query, count),
    close,
    [Symbol.asyncDispose]: close,
  };
}

const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

/**
 * Serper's wire format: `POST /search` with `X-API-KEY` and `{ q, num, gl }`; answers
 * `{ searchParameters, organic: [{ title, link, snippet, position }], credits }`, errors as
 * `{ message, statusCode }` (403 "Unauthorized." for a wrong key).
 */
const serperProtocol: SearchProtocol = {
  name: 'serper',
  parse(method, url, body, headers) {
    if (method !== 'POST' || url.pathname !== '/search' || typeof body?.q !== 'string') return null;
    return { apiKey: headers['x-api-key'] as string | undefined, query: body.q, count: Number(body.num ?? 10), country: body.gl };
  },
  success: (request, results) => ({
    searchParameters: { q: request.query, gl: request.country ?? 'us', hl: 'en', type: 'search', num: request.count, engine: 'google' },
    organic: results.map((result, index) => ({ title: result.title, link: result.url, snippet: result.snippet, position: index + 1 })),
    credits: 1,
  }),
  error: (status, message) => ({ message: message ?? (status === 429 ? 'Too many requests.' : status >= 500 ? 'Internal server error.' : 'Bad request.'), statusCode: status }),
  errorHeaders: (status, retryAfterSeconds): Record<string, string> => (status === 429 && retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}),
  unauthorized: { status: 403, body: { message: 'Unauthorized.', statusCode: 403 } },
};

/**
 * Brave Search's wire format: `GET /res/v1/web/search?q=&count=&country=` with
 * `X-Subscription-Token`; answers `{ type: "search", query, web: { type: "search", results: [{
 * title, url, description, meta_url, … }] } }`, errors as `{ type: "ErrorResponse", error: { id,
 * status, code, detail } }`, a 429 with `X-RateLimit-Limit/Remaining/Reset` (per second, per month).
 */
const braveProtocol: SearchProtocol = {
  name: 'brave',
  parse(method, url, _body, headers) {
    if (method !== 'GET' || url.pathname !== '/res/v1/web/search' || !url.searchParams.get('q')) return null;
    return { apiKey: headers['x-subscription-token'] as string | undefined, query: url.searchParams.get('q')!, count: Number(url.searchParams.get('count') ?? 20), country: url.searchParams.get('country') ?? undefined };
  },
  success: (request, results) => ({
    type: 'search',
    query: { original: request.query, show_strict_warning: false, is_navigational: false, country: request.country ?? 'us', more_results_available: false },
    mixed: { type: 'mixed', main: results.map((_result, index) => ({ type: 'web', index, all: false })) },
    web: {
      type: 'search',
      family_friendly: true,
      results: results.map((result) => ({
        type: 'search_result',
        subtype: 'generic',
        title: result.title,
        url: result.url,
        description: result.snippet,
        is_source_local: false,
        is_source_both: false,
        language: 'en',
        family_friendly: true,
        profile: { name: hostOf(result.url), url: result.url, long_name: hostOf(result.url), img: '' },
        meta_url: { scheme: result.url.split(':')[0], netloc: hostOf(result.url), hostname: hostOf(result.url), favicon: '', path: '' },
      })),
    },
  }),
  error: (status, message) => ({
    type: 'ErrorResponse',
    error: {
      id: 'fake-error',
      status,
      code: status === 429 ? 'RATE_LIMITED' : status === 422 ? 'SUBSCRIPTION_TOKEN_INVALID' : status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION',
      detail: message ?? (status === 429 ? 'Request rate limit exceeded for plan.' : 'The request could not be processed.'),
      meta: {},
    },
    time: Math.floor(Date.now() / 1000),
  }),
  errorHeaders: (status, retryAfterSeconds): Record<string, string> =>
    status === 429 ? { 'x-ratelimit-limit': '1, 15000', 'x-ratelimit-remaining': '0, 14000', 'x-ratelimit-reset': `${retryAfterSeconds ?? 1}, 1419704` } : {},
  unauthorized: {
    status: 422,
    body: { type: 'ErrorResponse', error: { id: 'fake-error', status: 422, code: 'SUBSCRIPTION_TOKEN_INVALID', detail: 'The provided subscription token is invalid.', meta: {} }, time: 0 },
  },
};

/** A local server speaking Serper's API (`SERPER_BASE_URL`). */
export function startFakeSerperServer(options: FakeSearchServerOptions = {}): Promise<FakeSearchServer> {
  return startFakeSearchServer(serperProtocol, options);
}

/** A local server speaking Brave Search's API (`BRAVE_SEARCH_BASE_URL`). */
export function startFakeBraveSearchServer(options: FakeSearchServerOptions = {}): Promise<FakeSearchServer> {
  return startFakeSearchServer(braveProtocol, options);
}
