import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FirecrawlFixturePage {
  html: string;
  /** Firecrawl's page metadata (title, description, og tags …), as a capture holds it. */
  metadata?: Record<string, unknown>;
  /** The page's own HTTP status, reported in metadata. Default: 200. */
  statusCode?: number;
}

export interface FakeFirecrawlServer extends AsyncDisposable {
  /** Give this as `FIRECRAWL_API_URL`. */
  apiUrl: string;
  apiKey: string;
  /** Every scrape request body, in order. */
  requests: Array<{ url: string; formats: unknown }>;
  close(): Promise<void>;
}

/**
 * A local server speaking Firecrawl's scrape API (`POST /v2/scrape`): the bearer key is checked,
 * known URLs answer with their HTML in the formats asked for, unknown ones as the real service
 * reports a site's 404 (success, with `metadata.statusCode`).
 */
export async function startFakeFirecrawlServer(options: { pages: Record<string, FirecrawlFixturePage>; apiKey?: string }): Promise<FakeFirecrawlServer> {
  const apiKey = options.apiKey ?? 'fc-test-key';
  const requests: FakeFirecrawlServer['requests'] = [];
  const pages = new Map(Object.entries(options.pages).map(([url, page]) => [url.replace(/\/$/, ''), page]));
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    const reply = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v2/scrape') return reply(404, { success: false, error: 'Not found' });
      if (request.headers.authorization !== `Bearer ${apiKey}`) return reply(401, { success: false, error: 'Unauthorized: Invalid token' });
      let body: { url?: string; formats?: string[] };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, { success: false, error: 'Bad Request: invalid JSON' });
      }
      if (typeof body.url !== 'string') return reply(400, { success: false, error: 'Bad Request: url is required' });
      requests.push({ url: body.url, formats: body.formats });
      const page = pages.get(body.url.replace(/\/$/, ''));
      const formats = body.formats ?? ['markdown'];
      const html = page?.html ?? '<html><body><h1>404</h1></body></html>';
      return reply(200, {
        success: true,
        data: {
          ...(formats.includes('rawHtml') ? { rawHtml: html } : {}),
          ...(formats.includes('html') ? { html } : {}),
          metadata: { ...page?.metadata, sourceURL: body.url, url: body.url, statusCode: page ? (page.statusCode ?? 200) : 404 },
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { apiUrl: `http://127.0.0.1:${port}`, apiKey, requests, close, [Symbol.asyncDispose]: close };
}
