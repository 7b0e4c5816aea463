import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { refusalReasonOf } from '../address-policy.js';
import { FetchFailure } from './fetch-errors.js';
import { createSafeFetcher as createFetcher, type HostResolver, type SafeFetcher, type SafeFetcherOptions } from './safe-fetcher.js';

// Every fetcher a test makes is closed at the end, so no keep-alive socket outlives the file.
const openFetchers: SafeFetcher[] = [];
const createSafeFetcher = (options: SafeFetcherOptions) => {
  const fetcher = createFetcher(options);
  openFetchers.push(fetcher);
  return fetcher;
};

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A local site; every request it receives is counted, so a test can prove nothing reached it. */
async function startSite(handler: Handler) {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, origin: `http://127.0.0.1:${port}`, hits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let site: Awaited<ReturnType<typeof startSite>>;
let inFlight = 0;
let mostInFlight = 0;
let internal: Awaited<ReturnType<typeof startSite>>;

beforeAll(async () => {
  // Stands for something inside our network: never allowlisted, must never be reached.
  internal = await startSite((_request, response) => response.end('internal secrets'));
  site = await startSite((request, response) => {
    const path = request.url ?? '/';
    if (path === '/') return response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>Acme</h1>');
    if (path === '/to-internal') return response.writeHead(302, { location: `${internal.origin}/` }).end();
    if (path === '/to-mapped') return response.writeHead(301, { location: `http://[::ffff:127.0.0.1]:${internal.port}/` }).end();
    if (path === '/to-metadata') return response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (path === '/to-file') return response.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (path === '/to-rebinding-name') return response.writeHead(302, { location: `http://internal.test:${internal.port}/` }).end();
    if (path === '/loop-a') return response.writeHead(302, { location: '/loop-b' }).end();
    if (path === '/loop-b') return response.writeHead(302, { location: '/loop-a' }).end();
    if (path.startsWith('/chain/')) {
      const step = Number(path.split('/')[2]);
      return step === 0 ? response.writeHead(200, { 'content-type': 'text/html' }).end('end of chain') : response.writeHead(302, { location: `/chain/${step - 1}` }).end();
    }
    if (path === '/big') return response.writeHead(200, { 'content-type': 'text/html', 'content-length': String(3 * 1024 * 1024) }).end('x'.repeat(3 * 1024 * 1024));
    if (path === '/big-streamed') {
      response.writeHead(200, { 'content-type': 'text/html' });
      for (let index = 0; index < 40; index += 1) response.write('y'.repeat(64 * 1024));
      return response.end();
    }
    if (path === '/slow') {
      const timer = setTimeout(() => response.writeHead(200, { 'content-type': 'text/html' }).end('late'), 3_000);
      // The client gives up first; a timer left running would keep the test worker alive.
      return void response.on('close', () => clearTimeout(timer));
    }
    if (path.startsWith('/concurrent')) {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      return void setTimeout(() => {
        inFlight -= 1;
        response.writeHead(200, { 'content-type': 'text/html' }).end('ok');
      }, 100);
    }
    if (path === '/pdf') return response.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.7');
    if (path === '/latin1') return response.writeHead(200, { 'content-type': 'text/html; charset=iso-8859-1' }).end(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    if (path === '/gone') return response.writeHead(404, { 'content-type': 'text/html' }).end('not found');
    if (path === '/broken') return response.writeHead(503).end();
    response.writeHead(404).end();
  });
});

afterAll(async () => {
  await Promise.all(openFetchers.map((fetcher) => fetcher.close()));
  await Promise.all([site?.close(), internal?.close()]);
});

/** Names that resolve the way a test says, the way an attacker's DNS would answer. */
const names: Record<string, string[]> = {
  'site.test': ['127.0.0.1'],
  'internal.test': ['127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['8.8.8.8', '10.1.2.3'],
  'ula.test': ['fd12:3456::1'],
};
const resolveHost: HostResolver = async (hostname) => {
  const addresses = names[hostname];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const fetcherFor = (extra: Partial<SafeFetcherOptions> = {}) =>
  createSafeFetcher({ allowlist: [`127.0.0.1:${site.port}`, `site.test:${site.port}`], resolveHost, timeoutMs: 1_500, maximumBytes: 2 * 1024 * 1024, ...extra });

async function failureOf(promise: Promise<unknown>): Promise<FetchFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FetchFailure) return error;
    throw error;
  }
  throw new Error('expected the fetch to fail');
}

describe('refused addresses', () => {
  it.each([
    ['loopback', 'http://127.0.0.1/'],
    ['loopback, another address of the block', 'http://127.1.2.3/'],
    ['loopback as a decimal number', 'http://2130706433/'],
    ['loopback in hex', 'http://0x7f.0.0.1/'],
    ['loopback in octal', 'http://0177.0.0.1/'],
    ['this network', 'http://0.0.0.0/'],
    ['private 10/8', 'http://10.0.0.1/'],
    ['private 172.16/12', 'http://172.16.5.4/'],
    ['private 192.168/16', 'http://192.168.1.1/'],
    ['link-local (cloud metadata)', 'http://169.254.169.254/latest/meta-data/'],
    ['carrier-grade NAT', 'http://100.64.0.1/'],
    ['multicast', 'http://224.0.0.1/'],
    ['reserved', 'http://240.0.0.1/'],
    ['IPv6 loopback', 'http://[::1]/'],
    ['IPv6 unspecified', 'http://[::]/'],
    ['IPv6 unique local', 'http://[fc00::1]/'],
    ['IPv6 link-local', 'http://[fe80::1]/'],
    ['IPv6 multicast', 'http://[ff02::1]/'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
    ['IPv4-mapped metadata in hex', 'http://[::ffff:a9fe:a9fe]/'],
    ['NAT64 of a private address', 'http://[64:ff9b::a00:1]/'],
  ])('refuses %s (%s) without connecting', async (_name, url) => {
    const failure = await failureOf(fetcherFor().fetch(url));
    expect(failure.kind).toBe('refused');
    expect(failure.toGraphQLError().extensions['code']).toBe('FORBIDDEN');
    expect(failure.message).toMatch(/never fetched/);
  });

  it.each([
    ['a name resolving to loopback', 'http://internal.test/'],
    ['a name resolving to cloud metadata', 'http://metadata.test/'],
    ['a name with one public and one private address', 'http://mixed.test/'],
    ['a name resolving to an IPv6 unique local address', 'http://ula.test/'],
  ])('refuses %s, checking what DNS answered', async (_name, url) => {
    const failure = await failureOf(fetcherFor().fetch(url));
    expect(failure.kind).toBe('refused');
    expect(failure.message).toMatch(/resolves to a .* address/);
  });

  it('tells public from refused addresses', () => {
    expect(refusalReasonOf('93.184.215.14')).toBeNull();
    expect(refusalReasonOf('2606:4700::6810:84e5')).toBeNull();
    expect(refusalReasonOf('172.32.0.1')).toBeNull();
    expect(refusalReasonOf('172.31.255.255')).toMatch(/private/);
  });
});

describe('the allowlist', () => {
  it('admits a listed host:port and connects to the address its name was checked at', async () => {
    const page = await fetcherFor().fetch(`http://site.test:${site.port}/`);
    expect(page.body).toBe('<h1>Acme</h1>');
    expect(page.contentType).toBe('text/html');
  });

  it('admits a listed host on any port only when listed without a port', async () => {
    const byPort = await failureOf(fetcherFor().fetch(`http://127.0.0.1:${internal.port}/`));
    expect(byPort.kind).toBe('refused');
    const wholeHost = createSafeFetcher({ allowlist: ['internal.test'], resolveHost });
    expect((await wholeHost.fetch(`http://internal.test:${internal.port}/`)).body).toBe('internal secrets');
  });
});

describe('every redirect hop is checked', () => {
  it.each([
    ['to an internal address', '/to-internal'],
    ['to an IPv4-mapped IPv6 literal', '/to-mapped'],
    ['to cloud metadata', '/to-metadata'],
    ['to a name that resolves inside', '/to-rebinding-name'],
  ])('refuses a redirect %s, and the internal site never sees a request', async (_name, path) => {
    const before = internal.hits.length;
    const failure = await failureOf(fetcherFor().fetch(`${site.origin}${path}`));
    expect(failure.kind).toBe('refused');
    expect(internal.hits.length).toBe(before);
  });

  it('refuses a redirect to another scheme', async () => {
    const failure = await failureOf(fetcherFor().fetch(`${site.origin}/to-file`));
    expect(failure.kind).toBe('refused');
    expect(failure.message).toMatch(/only http and https/i);
  });

  it('follows up to five redirects and stops at six, and stops a loop at once', async () => {
    const followed = await fetcherFor().fetch(`${site.origin}/chain/5`);
    expect(followed.body).toBe('end of chain');
    expect(followed.redirects).toHaveLength(5);
    expect((await failureOf(fetcherFor().fetch(`${site.origin}/chain/6`))).message).toMatch(/more than 5 times/);
    const loop = await failureOf(fetcherFor().fetch(`${site.origin}/loop-a`));
    expect(loop.message).toMatch(/loop/);
    expect(loop.toGraphQLError().extensions['code']).toBe('BAD_USER_INPUT');
  });
});

describe('bad input and unusable answers', () => {
  it.each([
    ['no scheme or host', 'acme'],
    ['another scheme', 'ftp://example.com/'],
    ['javascript', 'javascript:alert(1)'],
    ['credentials in the URL', 'http://user:pass@example.com/'],
  ])('refuses a URL with %s as bad input', async (_name, url) => {
    const failure = await failureOf(fetcherFor().fetch(url));
    expect(failure.toGraphQLError().extensions['code']).toBe('BAD_USER_INPUT');
  });

  it('refuses a page larger than the cap, declared or streamed', async () => {
    expect((await failureOf(fetcherFor().fetch(`${site.origin}/big`))).message).toMatch(/larger than 2048 KiB/);
    expect((await failureOf(fetcherFor().fetch(`${site.origin}/big-streamed`))).message).toMatch(/larger than 2048 KiB/);
  });

  it('gives up on a page slower than the time cap as unreachable', async () => {
    const failure = await failureOf(fetcherFor({ timeoutMs: 300 }).fetch(`${site.origin}/slow`));
    expect(failure.kind).toBe('unreachable');
    expect(failure.isRetryable).toBe(true);
    expect(failure.toGraphQLError().extensions['code']).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('refuses what is not a web page when asked for HTML', async () => {
    const failure = await failureOf(fetcherFor().fetch(`${site.origin}/pdf`, { accept: ['text/html'] }));
    expect(failure.message).toMatch(/application\/pdf, not a web page/);
  });

  it('reports an unknown host and a closed port as unreachable, a 404 as unusable and a 503 as unreachable', async () => {
    expect((await failureOf(fetcherFor().fetch('http://nowhere.test/'))).kind).toBe('unreachable');
    const closedPort = site.port === 1 ? 2 : 1;
    expect((await failureOf(createSafeFetcher({ allowlist: [`127.0.0.1:${closedPort}`] }).fetch(`http://127.0.0.1:${closedPort}/`))).kind).toBe('unreachable');
    expect((await failureOf(fetcherFor().fetch(`${site.origin}/gone`))).kind).toBe('unusable-response');
    expect((await failureOf(fetcherFor().fetch(`${site.origin}/broken`))).kind).toBe('unreachable');
  });

  it('opens https connections to many sites with one TLS context, not one each', async () => {
    // The names resolve to nothing: each fetch gets as far as opening its TLS connection, and no further.
    const fetcher = createSafeFetcher({ resolveHost: async (hostname) => Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })) });
    const original = tls.createSecureContext;
    let built = 0;
    tls.createSecureContext = (...options) => {
      built += 1;
      return original(...options);
    };
    try {
      for (const host of ['acme', 'globex', 'initech']) expect((await failureOf(fetcher.fetch(`https://${host}.example/`))).kind).toBe('unreachable');
    } finally {
      tls.createSecureContext = original;
    }
    expect(built).toBe(0);
  });

  it('sends at most the per-host limit of requests to one site at a time, queueing the rest', async () => {
    const fetcher = fetcherFor({ perHostConcurrency: 2 });
    const pages = await Promise.all(Array.from({ length: 6 }, (_, index) => fetcher.fetch(`${site.origin}/concurrent/${index}`)));
    expect(pages.every((page) => page.body === 'ok')).toBe(true);
    expect(mostInFlight).toBe(2);
  });

  it('decodes the charset the server declares', async () => {
    expect((await fetcherFor().fetch(`${site.origin}/latin1`)).body).toBe('café');
  });
});
