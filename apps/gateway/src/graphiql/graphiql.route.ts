import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { isLoopbackAddress } from '@gtm/runtime';
import { Router, type Request, type Response } from 'express';
// The page reads the config this router embeds, so the page owns its shape. Importing the type
// also puts the page in the type-checked program (the workspace tsconfig includes only *.ts).
import type { GraphiqlPageConfig } from './graphiql-page.js';

const gzip = promisify(gzipCallback);

export interface GraphiqlRouteOptions {
  /** Where tools/bundle-graphiql.ts wrote graphiql.js and graphiql.css. */
  assetsDirectory: string;
  /** What every browser gets. */
  config: GraphiqlPageConfig;
  /**
   * Default headers for a browser on this machine only (a development API key): given when the
   * socket's remote address is loopback and no proxy forwarded the request. Default: none.
   */
  loopbackDefaultHeaders?: string;
}

/**
 * A browser on this machine, judged by the connection itself, never by what the request says about
 * itself (`Host`, `Origin`): those are the client's to write. A request that a proxy forwarded
 * (`Forwarded`, `X-Forwarded-For`) may come from anywhere, even over a loopback socket.
 */
function isLocalBrowser(request: Request): boolean {
  return isLoopbackAddress(request.socket.remoteAddress) && request.header('forwarded') === undefined && request.header('x-forwarded-for') === undefined;
}

const assetTypes = {
  'graphiql.js': 'text/javascript; charset=utf-8',
  'graphiql.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof assetTypes;
const assetNames = Object.keys(assetTypes) as AssetName[];

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  /** Part of the asset's URL, so a browser may keep it for a year and still sees every rebuild. */
  hash: string;
  mtimeMs: number;
  size: number;
}

/**
 * Everything the page may load comes from this origin. CodeMirror positions its widgets with
 * inline styles, hence 'unsafe-inline' for styles only; the one inline script is the JSON config,
 * which the browser does not execute. GraphiQL's fonts and icons are data: URLs in its CSS.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const oneYearInSeconds = 365 * 24 * 60 * 60;
const notBuiltMessage =
  'GraphiQL is not built yet. Run `node tools/bundle-graphiql.ts` (or `npm run build`) in the workspace root, then reload this page.\n';

/**
 * GraphiQL at `GET /graphql` for browsers, with its bundle at `/graphiql/graphiql.js` and
 * `/graphiql/graphiql.css`. A `GET /graphql` that does not ask for HTML (curl, fetch, GraphQL
 * clients) passes through to the GraphQL handler mounted after this router.
 */
export function createGraphiqlRouter(options: GraphiqlRouteOptions): Router {
  const router = Router();
  const cache = new Map<AssetName, Asset>();

  /** The built asset, re-read when a rebuild changed it; undefined while it is not built. */
  async function loadAsset(name: AssetName): Promise<Asset | undefined> {
    const path = join(options.assetsDirectory, name);
    let stats;
    try {
      stats = await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const cached = cache.get(name);
    if (cached && cached.mtimeMs === stats.mtimeMs && cached.size === stats.size) return cached;
    const body = await readFile(path);
    const asset: Asset = {
      body,
      // The gateway has no compression middleware; 1.3 MB of script would otherwise go out as is.
      gzipped: await gzip(body, { level: 9 }),
      hash: createHash('sha256').update(body).digest('base64url').slice(0, 16),
      mtimeMs: stats.mtimeMs,
      size: stats.size,
    };
    cache.set(name, asset);
    return asset;
  }

  const pageConfigFor = (request: Request): GraphiqlPageConfig =>
    options.loopbackDefaultHeaders && isLocalBrowser(request) ? { ...options.config, defaultHeaders: options.loopbackDefaultHeaders } : options.config;

  router.get('/graphql', async (request, response, next) => {
    // A browser navigation lists text/html first; `*/*` or a missing Accept (curl, most clients)
    // picks the first type offered here, a GraphQL one, and so gets the GraphQL handler.
    if (request.accepts(['application/graphql-response+json', 'application/json', 'text/html']) !== 'text/html') {
      next();
      return;
    }
    const [script, stylesheet] = await Promise.all(assetNames.map(loadAsset));
    response.vary('Accept');
    if (!script || !stylesheet) {
      answerNotBuilt(response);
      return;
    }
    response
      .status(200)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': contentSecurityPolicy,
        // The default headers may hold a development API key: keep the page out of every cache.
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
      })
      .send(renderPage(pageConfigFor(request), `${request.baseUrl}/graphiql`, script.hash, stylesheet.hash));
  });

  router.get('/graphiql/:file', async (request: Request<{ file: string }>, response, next) => {
    const name = request.params.file;
    if (!(name in assetTypes)) {
      next();
      return;
    }
    const asset = await loadAsset(name as AssetName);
    if (!asset) {
      answerNotBuilt(response);
      return;
    }
    // Only the URL naming this exact content may be cached for good; any other (an old page's,
    // or no hash at all) must be revalidated so it never pins a stale bundle.
    const immutable = request.query.v === asset.hash;
    const useGzip = request.acceptsEncodings('gzip', 'identity') === 'gzip';
    response.set({
      'Content-Type': assetTypes[name as AssetName],
      'Cache-Control': immutable ? `public, max-age=${oneYearInSeconds}, immutable` : 'no-cache',
      ETag: `"${asset.hash}${useGzip ? '-gzip' : ''}"`,
      'X-Content-Type-Options': 'nosniff',
    });
    response.vary('Accept-Encoding');
    if (useGzip) response.set('Content-Encoding', 'gzip');
    // send() answers 304 itself when If-None-Match names the ETag set above.
    response.send(useGzip ? asset.gzipped : asset.body);
  });

  return router;
}

function answerNotBuilt(response: Response): void {
  response.status(503).type('text/plain; charset=utf-8').set('Cache-Control', 'no-store').send(notBuiltMessage);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function renderPage(config: GraphiqlPageConfig, assetsPath: string, scriptHash: string, stylesheetHash: string): string {
  // Inside <script>, only `<` can end the element early (`</script>`, `<!--`); `\u003c` is the
  // same character to JSON.parse, so the config may hold any text.
  const configJson = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(config.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetsPath}/graphiql.css?v=${stylesheetHash}">
<script id="graphiql-config" type="application/json">${configJson}</script>
<script defer src="${assetsPath}/graphiql.js?v=${scriptHash}"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. Without it, send GraphQL requests with POST /graphql.</noscript>
</body>
</html>
`;
}
