import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

export interface FixtureSite extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** `127.0.0.1:<port>`, for an allowlist. */
  host: string;
  /** Every path requested, in order, with when it arrived (ms, performance.now()). */
  requests: Array<{ path: string; at: number }>;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.xml': 'application/xml' };

/**
 * Serves a folder as a website on 127.0.0.1: `/about` is `about.html`, `/` is `index.html`, and
 * `{{origin}}` in any file becomes the site's own origin (sitemaps and robots.txt need absolute
 * URLs). `overrides` answer chosen paths some other way (a redirect, a slow page, an error).
 */
export async function startFixtureSite(directory: string, overrides: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {}): Promise<FixtureSite> {
  const requests: FixtureSite['requests'] = [];
  let origin = '';
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://fixture').pathname;
    requests.push({ path, at: performance.now() });
    const override = overrides[path];
    if (override) return override(request, response);
    const relative = normalize(path === '/' ? 'index.html' : extname(path) ? path : `${path}.html`).replace(/^(\.\.[/\\])+/, '');
    readFile(join(directory, relative), 'utf8').then(
      (content) => response.writeHead(200, { 'content-type': contentTypes[extname(relative)] ?? 'application/octet-stream' }).end(content.replaceAll('{{origin}}', origin)),
      () => response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { origin, host: `127.0.0.1:${port}`, requests, close, [Symbol.asyncDispose]: close };
}
