// Drives the real GraphiQL bundle in headless Chromium (Debian's package when installed, else the
// one the npm package @sparticuz/chromium ships; playwright-core never downloads a browser) against a small server that mounts the GraphiQL router in front of a real
// GraphQL endpoint: graphql-http over HTTP and graphql-ws over WebSocket, both echoing the
// credentials the page sent.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromiumArguments, chromiumExecutablePath } from '@gtm/runtime';
import { testEnvironment } from '@gtm/testing';
import express from 'express';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/express';
import { useServer } from 'graphql-ws/use/ws';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { createGraphiqlRouter } from './graphiql.route.js';

const workspaceRoot = fileURLToPath(new URL('../../../../', import.meta.url));

// A type alias, not an interface: graphql-http wants a context assignable to a record.
type EchoContext = { authorization: string | null };

const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, EchoContext>({
    name: 'Query',
    fields: { authorization: { type: GraphQLString, resolve: (_source, _arguments, context) => context.authorization } },
  }),
  subscription: new GraphQLObjectType<unknown, EchoContext>({
    name: 'Subscription',
    fields: {
      connectionAuthorization: {
        type: GraphQLString,
        subscribe: async function* (_source, _arguments, context: EchoContext) {
          yield { connectionAuthorization: context.authorization };
        },
      },
    },
  }),
});

// The title and the query hold `</script>`: if the embedded config were not escaped, the page
// would run the injected script and GraphiQL would get a truncated config.
const config = {
  defaultHeaders: '{\n  "Authorization": "Bearer default-key"\n}',
  defaultQuery: '# </script><script>window.injected = true</script>\n{ authorization }\n',
  title: 'GTM Graph </script><script>window.injected = true</script>',
};

let assetsDirectory: string;
let emptyDirectory: string;
let server: Server;
let webSocketServer: WebSocketServer;
let baseUrl: string;
let browser: Browser;
const connectionPayloads: unknown[] = [];

beforeAll(async () => {
  // Bundle into a directory of this test's own, so no earlier build (or a missing one) matters.
  assetsDirectory = await mkdtemp(join(tmpdir(), 'graphiql-bundle-'));
  emptyDirectory = await mkdtemp(join(tmpdir(), 'graphiql-unbuilt-'));
  await promisify(execFile)(process.execPath, ['tools/bundle-graphiql.ts', '--outdir', assetsDirectory], { cwd: workspaceRoot });

  const app = express();
  app.use(createGraphiqlRouter({ assetsDirectory, config }));
  app.use('/unbuilt', createGraphiqlRouter({ assetsDirectory: emptyDirectory, config }));
  app.all('/graphql', createHandler<EchoContext>({ schema, context: (request) => ({ authorization: request.raw.headers.authorization ?? null }) }));
  server = createServer(app);
  webSocketServer = new WebSocketServer({ server, path: '/graphql' });
  useServer<Record<string, unknown>>(
    {
      schema,
      onConnect: (context) => {
        connectionPayloads.push(context.connectionParams);
      },
      context: (context): EchoContext => {
        const authorization = context.connectionParams?.['authorization'];
        return { authorization: typeof authorization === 'string' ? authorization : null };
      },
    },
    webSocketServer,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  browser = await chromium.launch({ executablePath: await chromiumExecutablePath({ configuredPath: testEnvironment.chromiumPath }), args: [...chromiumArguments] });
});

afterAll(async () => {
  await browser?.close();
  for (const client of webSocketServer?.clients ?? []) client.terminate();
  await new Promise((resolve) => webSocketServer?.close(resolve));
  await new Promise((resolve) => server?.close(resolve));
  await Promise.all([assetsDirectory, emptyDirectory].filter(Boolean).map((path) => rm(path, { recursive: true, force: true })));
});

const queryEditor = '.graphiql-query-editor .CodeMirror';
const headerEditor = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const responseEditor = '.result-window .CodeMirror';

/** The text of one of GraphiQL's CodeMirror 5 editors. */
function editorValue(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
}

/**
 * Replaces the query and waits until GraphiQL has parsed it: it does so 100 ms after an edit,
 * and a run before then would go out with the previous document's operation type and name.
 */
async function setQuery(page: Page, query: string, operationName: string): Promise<void> {
  await page.$eval(queryEditor, (element, text) => (element as unknown as { CodeMirror: { setValue(text: string): void } }).CodeMirror.setValue(text), query);
  await page.waitForFunction(
    ([selector, name]) => (document.querySelector(selector) as unknown as { CodeMirror: { operationName?: string | null } }).CodeMirror.operationName === name,
    [queryEditor, operationName] as const,
    { timeout: 5_000 },
  );
}

async function runAndReadResponse(page: Page, expected: string): Promise<string> {
  await page.click('.graphiql-execute-button');
  try {
    await page.waitForFunction(
      ([selector, text]) => (document.querySelector(selector) as unknown as { CodeMirror: { getValue(): string } } | null)?.CodeMirror.getValue().includes(text),
      [responseEditor, expected] as const,
      { timeout: 10_000 },
    );
  } catch (error) {
    // Say what GraphiQL showed instead, which is what tells a failure apart.
    throw new Error(`the response pane never showed "${expected}"; it shows: ${await editorValue(page, responseEditor)}`, { cause: error });
  }
  return editorValue(page, responseEditor);
}

describe('GraphiQL at GET /graphql', () => {
  it('loads only from its own origin, shows the default headers, and sends the typed headers over HTTP and in connection_init', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const urls: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    page.on('websocket', (socket) => urls.push(socket.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

    // networkidle: the schema introspection has come back, so the editors know the schema.
    await page.goto(`${baseUrl}/graphql`, { waitUntil: 'networkidle' });
    await page.waitForSelector(queryEditor);
    expect(await page.title()).toBe(config.title);
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
    expect(await editorValue(page, queryEditor)).toBe(config.defaultQuery);
    expect(await editorValue(page, headerEditor)).toBe(config.defaultHeaders);

    // The default query, run with the default headers.
    expect(JSON.parse(await runAndReadResponse(page, 'default-key'))).toEqual({ data: { authorization: 'Bearer default-key' } });

    // Headers typed by hand (CodeMirror closes brackets and quotes itself, and steps over them).
    await page.click(headerEditor);
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{"Authorization": "Bearer typed-key"}');
    expect(JSON.parse(await editorValue(page, headerEditor))).toEqual({ Authorization: 'Bearer typed-key' });
    await setQuery(page, 'query Who { authorization }', 'Who');
    expect(JSON.parse(await runAndReadResponse(page, 'typed-key'))).toEqual({ data: { authorization: 'Bearer typed-key' } });

    // A subscription goes over graphql-ws with the typed headers, lower-cased, as connection_init.
    await setQuery(page, 'subscription Watch { connectionAuthorization }', 'Watch');
    expect(JSON.parse(await runAndReadResponse(page, 'typed-key'))).toEqual({ data: { connectionAuthorization: 'Bearer typed-key' } });
    expect(connectionPayloads).toEqual([{ authorization: 'Bearer typed-key' }]);

    // GRAPHIQL_SCREENSHOT=/tmp/graphiql.png keeps a picture of the page for a human to look at.
    if (process.env['GRAPHIQL_SCREENSHOT']) await page.screenshot({ path: process.env['GRAPHIQL_SCREENSHOT'] });
    await context.close();

    const origin = new URL(baseUrl);
    const elsewhere = urls.filter((url) => {
      const target = new URL(url);
      // data: URLs are GraphiQL's inlined fonts and icons: nothing goes over the network.
      if (target.protocol === 'data:') return false;
      return target.host !== origin.host || !['http:', 'ws:'].includes(target.protocol);
    });
    expect(elsewhere).toEqual([]);
    expect(urls).toEqual(expect.arrayContaining([expect.stringMatching(/\/graphiql\/graphiql\.js\?v=/), `ws://${origin.host}/graphql`]));
    expect(problems).toEqual([]);
  });

  it('leaves GET /graphql to the GraphQL handler when the client does not ask for HTML', async () => {
    for (const accept of ['application/json', 'application/graphql-response+json', '*/*']) {
      const response = await fetch(`${baseUrl}/graphql?query=${encodeURIComponent('{ authorization }')}`, {
        headers: { accept, authorization: 'Bearer curl-key' },
      });
      expect(response.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
      expect(await response.json()).toEqual({ data: { authorization: 'Bearer curl-key' } });
    }
  });

  it('serves the page with a strict Content-Security-Policy and the bundle under content-hashed, long-cached URLs', async () => {
    const page = await fetch(`${baseUrl}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toMatch(/script-src[^;]*unsafe/);
    const html = await page.text();
    expect(html).not.toContain('</script><script>window.injected');
    const scriptUrl = /src="(\/graphiql\/graphiql\.js\?v=[\w-]+)"/.exec(html)?.[1];
    expect(scriptUrl).toBeDefined();

    const script = await fetch(`${baseUrl}${scriptUrl}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(script.headers.get('content-encoding')).toBe('gzip');
    const stale = await fetch(`${baseUrl}/graphiql/graphiql.js?v=an-older-build`);
    expect(stale.headers.get('cache-control')).toBe('no-cache');
    expect(await stale.text()).toBe(await script.text());
  });

  it('answers 503 and says how to build when the bundle is missing', async () => {
    const response = await fetch(`${baseUrl}/unbuilt/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('node tools/bundle-graphiql.ts');
    expect((await fetch(`${baseUrl}/unbuilt/graphiql/graphiql.js`)).status).toBe(503);
  });
});
