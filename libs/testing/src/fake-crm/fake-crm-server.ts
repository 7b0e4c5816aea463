import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake CRM answered, for tests and benchmarks that count calls. */
export interface FakeCrmRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  status: number;
  /** Whether the call changed data (create, update, delete, merge). */
  write: boolean;
}

/** A fault the next matching requests answer with instead of their real response. */
export interface FakeCrmFault {
  /** `rate-limit` (429 with the provider's headers), `daily-limit`, `unavailable` (503), `garbage` (200 with HTML), `unauthorized` (401). */
  kind: 'rate-limit' | 'daily-limit' | 'unavailable' | 'garbage' | 'unauthorized';
  /** How many requests in a row get it. */
  count: number;
  /** Only requests whose path contains this. Default: every request. */
  pathIncludes?: string;
  /** For rate limits: the Retry-After the provider sends, in seconds (fractions allowed). Default: the provider's usual answer. */
  retryAfterSeconds?: number;
}

export interface FakeCrmRequestContext {
  request: IncomingMessage;
  response: ServerResponse;
  method: string;
  url: URL;
  rawBody: Buffer;
  /** The body parsed as JSON (null when empty); a malformed body is answered 400 before a handler sees it. */
  body: any;
  /** Parsed `application/x-www-form-urlencoded` body, when it is one. */
  form: URLSearchParams | null;
}

export interface FakeCrmReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Counted as a write in the request log. Default: false. */
  write?: boolean;
}

export interface FakeCrmServerOptions {
  /** Added before every answer (what the provider's round trip costs). Default: 0. */
  latencyMs?: number;
  /** Answers one request; null for an unknown route (404). */
  handle(context: FakeCrmRequestContext): FakeCrmReply | null | Promise<FakeCrmReply | null>;
  /** How this provider answers a fault; the generic answer when it returns null. */
  faultReply(fault: FakeCrmFault, context: FakeCrmRequestContext): FakeCrmReply | null;
  /** This provider's answer for a route it does not have. */
  notFoundBody?: unknown;
}

export interface FakeCrmServer {
  baseUrl: string;
  requests: FakeCrmRequest[];
  /** Latency of every later answer, in milliseconds. */
  latencyMs: number;
  /** Queues faults; each one answers the next `count` matching requests. */
  inject(fault: FakeCrmFault): void;
  /** Requests answered and writes done since the last `resetCounts` (or the start). */
  counts(): { requests: number; writes: number };
  resetCounts(): void;
  close(): Promise<void>;
}

/** Writes a reply: JSON, or text as the provider's HTML error pages are. */
const send = (response: ServerResponse, reply: FakeCrmReply) => {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.body === undefined || reply.status === 204) return response.writeHead(reply.status, headers).end();
  if (typeof reply.body === 'string') {
    headers['content-type'] ??= 'text/html; charset=utf-8';
    return response.writeHead(reply.status, headers).end(reply.body);
  }
  headers['content-type'] ??= 'application/json;charset=utf-8';
  return response.writeHead(reply.status, headers).end(JSON.stringify(reply.body));
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The HTTP side every fake CRM shares: body parsing, latency, a request log, and injected faults
 * (rate limits, outages, HTML instead of JSON) answered the way that provider answers them.
 */
export async function startFakeCrmServer(options: FakeCrmServerOptions): Promise<FakeCrmServer> {
  const requests: FakeCrmRequest[] = [];
  const faults: FakeCrmFault[] = [];
  let countedFrom = 0;
  const state = { latencyMs: options.latencyMs ?? 0 };


  const takeFault = (path: string): FakeCrmFault | null => {
    const index = faults.findIndex((fault) => !fault.pathIncludes || path.includes(fault.pathIncludes));
    if (index < 0) return null;
    const fault = faults[index]!;
    fault.count -= 1;
    if (fault.count <= 0) faults.splice(index, 1);
    return fault;
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const method = request.method ?? 'GET';
      const url = new URL(request.url ?? '/', 'http://fake.invalid');
      const rawBody = Buffer.concat(chunks);
      const record = (reply: FakeCrmReply) => requests.push({ method, url: request.url ?? '/', status: reply.status, write: reply.write ?? false });
      try {
        if (state.latencyMs > 0) await sleep(state.latencyMs);
        const contentType = request.headers['content-type'] ?? '';
        let body: unknown = null;
        let form: URLSearchParams | null = null;
        if (rawBody.length > 0 && contentType.includes('application/x-www-form-urlencoded')) form = new URLSearchParams(rawBody.toString('utf8'));
        else if (rawBody.length > 0) {
          try {
            body = JSON.parse(rawBody.toString('utf8'));
          } catch {
            const reply = { status: 400, body: { status: 'error', message: 'Invalid input JSON on line 1' } };
            record(reply);
            return send(response, reply);
          }
        }
        const context: FakeCrmRequestContext = { request, response, method, url, rawBody, body, form };
        const fault = takeFault(url.pathname);
        if (fault) {
          const reply = options.faultReply(fault, context) ?? genericFaultReply(fault);
          record(reply);
          return send(response, reply);
        }
        const reply = (await options.handle(context)) ?? { status: 404, body: options.notFoundBody ?? { message: 'Not found' } };
        record(reply);
        send(response, reply);
      } catch (error) {
        const reply = { status: 500, body: { message: `fake CRM failed: ${(error as Error).message}` } };
        record(reply);
        send(response, reply);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(value: number) {
      state.latencyMs = value;
    },
    inject: (fault) => faults.push({ ...fault }),
    counts: () => {
      const since = requests.slice(countedFrom);
      return { requests: since.length, writes: since.filter((request) => request.write).length };
    },
    resetCounts: () => {
      countedFrom = requests.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function genericFaultReply(fault: FakeCrmFault): FakeCrmReply {
  switch (fault.kind) {
    case 'garbage':
      return { status: 200, body: '<!DOCTYPE html><html><body><h1>Maintenance</h1><p>We will be back shortly.</p></body></html>' };
    case 'unavailable':
      return { status: 503, body: '<html><body>503 Service Temporarily Unavailable</body></html>' };
    case 'unauthorized':
      return { status: 401, body: { message: 'Unauthorized' } };
    default:
      return { status: 429, body: { message: 'Too many requests' }, headers: { 'retry-after': String(fault.retryAfterSeconds ?? 1) } };
  }
}

/** A clock whose readings always move forward, even within one millisecond: modification times stay strictly ordered. */
export function createMonotonicClock(): () => Date {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last);
  };
}
