import type { LookupAddress } from 'node:dns';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One company's website: its host name (`broadwayautobrokers.test`) and its pages by path. */
export interface CompanySite {
  host: string;
  /** `/` and every other path, each an HTML page (or, for `/robots.txt`, text). */
  pages: Record<string, string>;
}

export interface CompanySitesOptions {
  /** Sites made on demand, by host (a benchmark's ten thousand): consulted after the added ones. Default: none. */
  lookup?: (host: string) => CompanySite | undefined;
  /** Added to every answer, like a real site's latency. Default: 0. */
  delayMs?: number;
}

export interface CompanySitesServer extends AsyncDisposable {
  port: number;
  /** `http://<host>:<port>`. */
  origin(host: string): string;
  /** Host names the server answers for resolve to 127.0.0.1; any other name fails as DNS would. */
  resolveHost(hostname: string): Promise<LookupAddress[]>;
  /** `host:port` of every site, for `CONTENT_FETCH_ALLOWLIST`. */
  allowlist(): string[];
  /** Adds or replaces sites while the server runs. */
  add(sites: readonly CompanySite[]): void;
  /** Every request, in order. */
  requests: Array<{ host: string; path: string }>;
  close(): Promise<void>;
}

/**
 * Many company websites on one local port, told apart by the Host header, so that each has a
 * domain of its own as real sites do: a fetcher reaches `http://acme.test:<port>/` once
 * `resolveHost` (the fetcher's and content-service's `resolveHost` option) maps the name to
 * 127.0.0.1 and the allowlist admits it.
 */
export async function startCompanySites(initial: readonly CompanySite[] = [], options: CompanySitesOptions = {}): Promise<CompanySitesServer> {
  const sites = new Map<string, CompanySite>();
  const siteOf = (host: string) => sites.get(host) ?? options.lookup?.(host);
  const add = (more: readonly CompanySite[]) => more.forEach((site) => sites.set(site.host.toLowerCase(), site));
  add(initial);
  const requests: CompanySitesServer['requests'] = [];
  const server = createServer((request, response) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const path = new URL(request.url ?? '/', 'http://site').pathname.replace(/\/+$/, '') || '/';
    requests.push({ host, path });
    if (options.delayMs) {
      setTimeout(() => answer(host, path, response), options.delayMs);
      return;
    }
    answer(host, path, response);
  });
  const answer = (host: string, path: string, response: ServerResponse) => {
    const page = siteOf(host)?.pages[path];
    if (page === undefined) {
      response.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body><h1>Not found</h1></body></html>');
      return;
    }
    response.writeHead(200, { 'content-type': path.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8' }).end(page);
  };
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    port,
    origin: (host) => `http://${host}:${port}`,
    async resolveHost(hostname) {
      if (siteOf(hostname.toLowerCase())) return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    },
    allowlist: () => [...sites.keys()].map((host) => `${host}:${port}`),
    add,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
