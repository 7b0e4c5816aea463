import { chromiumArguments, chromiumExecutablePath, FetchFailure, type SafeFetcher } from '@gtm/runtime';
import type { Browser, Route } from 'playwright-core';
import type { PageReader } from './page-reader.js';

export interface ChromiumPageReaderOptions {
  /** Every request the page makes goes through it, so rendering is as SSRF-safe as fetching. */
  fetcher: SafeFetcher;
  /** Default: `/usr/bin/chromium` (Debian's package) when installed, else the packaged one (`chromiumExecutablePath`). */
  executablePath?: string;
  /** Longest a page may take to load and settle. Default: 20 000 ms. */
  timeoutMs?: number;
}

// Sub-resources that never change the text of a page: not fetched at all.
const skippedResourceTypes = new Set(['image', 'media', 'font', 'texttrack', 'manifest', 'beacon', 'ping', 'csp_report', 'other']);

/**
 * Renders pages that build their content with JavaScript in headless Chromium. Chromium itself is
 * given no network: its DNS resolves nothing and its proxy leads nowhere, and every request the
 * page makes (GET only, no WebSocket, no service worker) is fulfilled by the SSRF-safe fetcher,
 * which checks each address and connects to it as checked. A page can therefore reach no more
 * than a user could with the fetcher alone.
 */
export function createChromiumPageReader(options: ChromiumPageReaderOptions): PageReader {
  const { fetcher } = options;
  const timeoutMs = options.timeoutMs ?? 20_000;
  let browser: Promise<Browser> | null = null;

  const launch = async () => {
    // Loaded on first use: playwright-core is large (about 60 MB resident), and most deployments never render.
    const { chromium } = await import('playwright-core');
    return chromium.launch({
      executablePath: await chromiumExecutablePath({ configuredPath: options.executablePath }),
      args: [...chromiumArguments, '--host-resolver-rules=MAP * ~NOTFOUND', '--proxy-server=http://127.0.0.1:9', '--proxy-bypass-list=<-loopback>'],
    });
  };

  const fulfil = async (route: Route, pageUrl: string, documentFailure: { error: FetchFailure | null }) => {
    const request = route.request();
    const isDocument = request.isNavigationRequest() && request.frame().parentFrame() === null;
    if (request.method() !== 'GET' || skippedResourceTypes.has(request.resourceType()) || !/^https?:/.test(request.url())) return route.abort('blockedbyclient');
    try {
      const fetched = await fetcher.fetch(request.url(), isDocument ? { accept: ['text/html', 'application/xhtml+xml'] } : {});
      await route.fulfill({ status: fetched.status, contentType: fetched.contentType || 'text/html', body: fetched.body });
    } catch (error) {
      if (isDocument && request.url() === pageUrl && error instanceof FetchFailure) documentFailure.error = error;
      await route.abort('blockedbyclient').catch(() => undefined);
    }
  };

  return {
    source: 'CHROMIUM',
    appliesRobotsItself: false,
    async read(url, signal) {
      browser ??= launch();
      let context;
      try {
        context = await (await browser).newContext({ serviceWorkers: 'block', userAgent: fetcher.userAgent, acceptDownloads: false });
      } catch (error) {
        browser = null;
        throw new FetchFailure('unreachable', 'The page renderer (Chromium) could not start; try again later.', url, { cause: error });
      }
      const documentFailure: { error: FetchFailure | null } = { error: null };
      try {
        await context.route('**/*', (route) => fulfil(route, url, documentFailure));
        await context.routeWebSocket('**', (socket) => socket.close());
        const page = await context.newPage();
        const abort = () => void page.close().catch(() => undefined);
        signal?.addEventListener('abort', abort, { once: true });
        try {
          await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
          // Client-side rendering usually settles right after load; wait briefly for the network to quieten.
          await page.waitForLoadState('networkidle', { timeout: Math.min(3_000, timeoutMs) }).catch(() => undefined);
          return { url: page.url(), html: await page.content() };
        } catch (error) {
          if (documentFailure.error) throw documentFailure.error;
          signal?.throwIfAborted();
          throw new FetchFailure('unreachable', `${url} could not be rendered in time.`, url, { cause: error });
        } finally {
          signal?.removeEventListener('abort', abort);
        }
      } finally {
        await context.close().catch(() => undefined);
      }
    },
    async close() {
      const launched = browser;
      browser = null;
      if (launched) await (await launched.catch(() => null))?.close();
    },
  };
}
