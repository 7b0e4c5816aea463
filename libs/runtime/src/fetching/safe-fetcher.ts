import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { createSecureContext } from 'node:tls';
import { bulkhead, type BulkheadPolicy } from 'cockatiel';
import { Agent, request, type Dispatcher } from 'undici';
import { FetchAllowlist, literalAddressRefusal, refusalReasonOf } from '../address-policy.js';
import { FetchFailure } from './fetch-errors.js';

/** Resolves a host name to every address it has, like `dns.lookup(host, { all: true })`. */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

export interface SafeFetcherOptions {
  /** `host` / `host:port` entries that may resolve to private addresses. Default: none. */
  allowlist?: readonly string[];
  /** Sent with every request and used for robots.txt. Default: `GTMGraphBot/1.0 (+https://github.com/gtm-graph)`. */
  userAgent?: string;
  /** Longest one page may take, redirects included. Default: 15 000 ms. */
  timeoutMs?: number;
  /** Largest body read, in bytes after decompression. Default: 5 MiB. */
  maximumBytes?: number;
  /** Default: 5. */
  maximumRedirects?: number;
  /** Requests in flight to one host at a time; more wait their turn. Default: 2. */
  perHostConcurrency?: number;
  /** How host names are resolved. Default: the system resolver. Tests give names their own answers. */
  resolveHost?: HostResolver;
}

export interface FetchedPage {
  /** Where the content came from, after redirects. */
  url: string;
  status: number;
  contentType: string;
  body: string;
  /** Every URL visited before `url`. */
  redirects: string[];
}

export interface FetchPageOptions {
  /** Media types accepted (`text/html` …); another one fails as an unusable response. Default: any. */
  accept?: readonly string[];
  signal?: AbortSignal;
}

export interface SafeFetcher {
  fetch(url: string, options?: FetchPageOptions): Promise<FetchedPage>;
  readonly userAgent: string;
  close(): Promise<void>;
}

const defaultUserAgent = 'GTMGraphBot/1.0 (+https://github.com/gtm-graph)';

const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) => systemLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/**
 * Fetches pages for users without letting them reach our own network (SSRF). Every request and
 * every redirect hop is checked: http(s) only, no credentials in the URL, and the host's addresses
 * resolved once, checked, and connected to as checked — the connection is made by the `lookup`
 * below, so a second DNS answer (rebinding) can never swap in a private address.
 */
export function createSafeFetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  const allowlist = new FetchAllowlist(options.allowlist ?? []);
  const resolveHost = options.resolveHost ?? systemResolver;
  const userAgent = options.userAgent ?? defaultUserAgent;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maximumBytes = options.maximumBytes ?? 5 * 1024 * 1024;
  const maximumRedirects = options.maximumRedirects ?? 5;
  const perHostConcurrency = options.perHostConcurrency ?? 2;
  const hostQueues = new Map<string, BulkheadPolicy>();

  // The one place a connection learns its address: resolved here, checked here, used as is.
  const lookupFor = (checked: boolean): LookupFunction =>
    ((hostname: string, lookupOptions: { all?: boolean }, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
      resolveHost(hostname).then(
        (addresses) => {
          if (addresses.length === 0) return callback(new FetchFailure('unreachable', `${hostname} has no address.`, hostname), '', 0);
          if (checked) {
            // One refused address refuses the host: a client may connect to any of them.
            for (const { address } of addresses) {
              const reason = refusalReasonOf(address);
              if (reason) return callback(new FetchFailure('refused', `${hostname} resolves to a ${reason}, which is never fetched.`, hostname), '', 0);
            }
          }
          if (lookupOptions.all) callback(null, addresses);
          else callback(null, addresses[0]!.address, addresses[0]!.family);
        },
        (error: unknown) => callback(new FetchFailure('unreachable', `${hostname} could not be resolved (${(error as NodeJS.ErrnoException).code ?? 'DNS error'}).`, hostname, { cause: error }), '', 0),
      );
    }) as unknown as LookupFunction;

  // `lookup` sees a host name but not the URL's port, so it cannot apply a `host:port` entry
  // itself. The verdict is taken per URL instead, choosing between two agents: undici pools
  // connections per origin, and an origin is either allowlisted or not, so a connection made by
  // one agent is never reused for a request the other should have checked.
  // One TLS context (the default trusted roots) for every https connection: without it each
  // connection builds its own, loading the whole root store again, about half a millisecond of CPU
  // per site a crawl or a website check opens.
  const agentOptions = { connect: { timeout: Math.min(timeoutMs, 10_000), secureContext: createSecureContext() }, maxRedirections: 0 };
  const checkingAgent = new Agent({ ...agentOptions, connect: { ...agentOptions.connect, lookup: lookupFor(true) } } as Agent.Options);
  const allowlistedAgent = new Agent({ ...agentOptions, connect: { ...agentOptions.connect, lookup: lookupFor(false) } } as Agent.Options);
  const agentFor = (url: URL): Dispatcher => (allowlist.admits(url) ? allowlistedAgent : checkingAgent);

  const checkUrl = (raw: string, base?: string): URL => {
    let url: URL;
    try {
      url = new URL(raw, base);
    } catch {
      throw new FetchFailure('invalid-url', `"${raw.slice(0, 200)}" is not a valid URL. Give a full address such as https://example.com.`, raw);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FetchFailure(base ? 'refused' : 'invalid-url', `Only http and https addresses can be fetched, not ${url.protocol.replace(':', '')}.`, url.href);
    }
    if (url.username || url.password) throw new FetchFailure('invalid-url', 'Addresses with a user name or password in them are not fetched.', url.href);
    // A literal IP is connected to without any lookup, so it is checked here.
    const refusal = literalAddressRefusal(url, allowlist);
    if (refusal) throw new FetchFailure('refused', refusal, url.href);
    return url;
  };

  const queueFor = (host: string): BulkheadPolicy => {
    let queue = hostQueues.get(host);
    if (!queue) {
      queue = bulkhead(perHostConcurrency, Number.MAX_SAFE_INTEGER);
      hostQueues.set(host, queue);
    }
    return queue;
  };

  const readBody = async (body: Dispatcher.ResponseData['body'], url: string): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maximumBytes) {
        body.destroy();
        throw new FetchFailure('unusable-response', `${url} is larger than ${Math.round(maximumBytes / 1024)} KiB, the most read from one page.`, url);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  };

  const fetchOnce = async (url: URL, signal: AbortSignal) => {
    const response = await request(url, {
      dispatcher: agentFor(url),
      method: 'GET',
      signal,
      headers: { 'user-agent': userAgent, accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5' },
    }).catch((error: unknown) => {
      throw networkFailure(error, url);
    });
    const declaredLength = Number(response.headers['content-length']);
    if (Number.isFinite(declaredLength) && declaredLength > maximumBytes) {
      response.body.destroy();
      throw new FetchFailure('unusable-response', `${url.href} is larger than ${Math.round(maximumBytes / 1024)} KiB, the most read from one page.`, url.href);
    }
    if (response.statusCode >= 300 && response.statusCode < 400) {
      await response.body.dump();
      return { response, body: Buffer.alloc(0) };
    }
    const body = await readBody(response.body, url.href).catch((error: unknown) => {
      throw error instanceof FetchFailure ? error : networkFailure(error, url);
    });
    return { response, body };
  };

  const networkFailure = (error: unknown, url: URL): FetchFailure => {
    const cause = (error as { cause?: unknown }).cause ?? error;
    if (cause instanceof FetchFailure) return new FetchFailure(cause.kind, cause.message, url.href, { cause });
    if (error instanceof FetchFailure) return error;
    const name = (error as Error).name;
    if (name === 'AbortError' || name === 'TimeoutError') return new FetchFailure('unreachable', `${url.host} did not answer within ${timeoutMs / 1000} s.`, url.href, { cause: error });
    const code = (error as NodeJS.ErrnoException).code ?? (cause as NodeJS.ErrnoException).code;
    return new FetchFailure('unreachable', `${url.host} could not be reached${code ? ` (${code})` : ''}. Check the address, or try again later.`, url.href, { cause: error });
  };

  return {
    userAgent,
    async fetch(rawUrl, fetchOptions = {}) {
      const signal = fetchOptions.signal ? AbortSignal.any([fetchOptions.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      let url = checkUrl(rawUrl);
      const visited: string[] = [];
      for (;;) {
        const current = url;
        const queue = queueFor(current.host);
        const { response, body } = await queue.execute(() => fetchOnce(current, signal)).finally(() => {
          // An idle host's queue is dropped: a service that fetches ten thousand sites keeps none of them.
          if (queue.executionSlots === perHostConcurrency && queue.queueSlots === Number.MAX_SAFE_INTEGER) hostQueues.delete(current.host);
        });
        const location = response.headers['location'];
        if (response.statusCode >= 300 && response.statusCode < 400 && location) {
          visited.push(current.href);
          if (visited.length > maximumRedirects) {
            throw new FetchFailure('unusable-response', `${rawUrl} redirects more than ${maximumRedirects} times; give the final address instead.`, current.href);
          }
          url = checkUrl(Array.isArray(location) ? location[0]! : location, current.href);
          if (visited.includes(url.href)) throw new FetchFailure('unusable-response', `${rawUrl} redirects in a loop (back to ${url.href}).`, url.href);
          continue;
        }
        if (response.statusCode >= 400) {
          const kind = response.statusCode >= 500 || response.statusCode === 429 ? 'unreachable' : 'unusable-response';
          throw new FetchFailure(kind, `${current.href} answered HTTP ${response.statusCode}.`, current.href);
        }
        const contentType = String(response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (fetchOptions.accept && !fetchOptions.accept.includes(contentType)) {
          throw new FetchFailure('unusable-response', `${current.href} is ${contentType || 'of no declared type'}, not a web page (${fetchOptions.accept.join(' or ')}).`, current.href);
        }
        return { url: current.href, status: response.statusCode, contentType, body: decode(body, String(response.headers['content-type'] ?? '')), redirects: visited };
      }
    },
    async close() {
      hostQueues.clear();
      await Promise.all([checkingAgent.close(), allowlistedAgent.close()]);
    },
  };
}

/** Decodes with the charset the server declared, UTF-8 otherwise. */
function decode(body: Buffer, contentTypeHeader: string): string {
  const charset = /charset=["']?([\w-]+)/i.exec(contentTypeHeader)?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}
