import { setTimeout as sleepFor } from 'node:timers/promises';
import { FetchFailure, normalizeWebsiteUrl, type SafeFetcher } from '@gtm/runtime';
import { extractPage, type ExtractedPage } from '../extraction/page-extraction.js';
import type { PageSource } from '../website/website.entity.js';
import { pageKindOf, type PageKind } from './page-kind.js';
import { planPages, sitemapPages } from './page-plan.js';
import type { PageReader, ReadPage } from './page-reader.js';
import { loadRobotsPolicy, longestCrawlDelayMs, type RobotsPolicy } from './robots-policy.js';

export interface CrawledPage {
  url: string;
  source: PageSource;
  metadata?: ReadPage['metadata'];
  kind: PageKind;
  html: string;
  /**
   * The page as extraction reads it, when the crawl already had to (the home page, for its links):
   * the analysis takes it rather than parsing the page a second time.
   */
  extracted?: ExtractedPage;
}

export interface CrawledSite {
  /** The home page's URL after redirects (http → https, apex → www …), normalised. */
  homeUrl: string;
  /** The reader asked; a page's own `source` says when another one (Chromium) produced it. */
  source: PageSource;
  /** The home page first, then the planned pages that could be read, in reading order. */
  pages: CrawledPage[];
  /** Planned pages that could not be read, and why; the rest of the analysis goes on without them. */
  skippedPages: { url: string; reason: string }[];
}

export interface SiteCrawlerOptions {
  fetcher: SafeFetcher;
  reader: PageReader;
  /** Pages read per site, the home page included. Default: 8. */
  maximumPages?: number;
  /**
   * Requests in flight to the site at once when its robots.txt asks for no Crawl-delay
   * (`CONTENT_FETCH_PER_HOST_CONCURRENCY`, which the fetcher holds every site to as well). With a
   * Crawl-delay, one at a time. Default: 1.
   */
  concurrentRequests?: number;
  /** Waits between two requests to the site (Crawl-delay). Tests record the waits instead. Default: a real timer. */
  sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
}

const allowEverything: RobotsPolicy = { isAllowed: () => true, crawlDelayMs: 0, sitemaps: [] };

const realSleep = async (milliseconds: number, signal?: AbortSignal) => {
  await sleepFor(milliseconds, undefined, { signal });
};

export interface SiteCrawler {
  crawl(url: string, signal?: AbortSignal): Promise<CrawledSite>;
}

/** What reading one planned page came to. */
type Reading = { page: ReadPage } | { error: unknown };

/** Reads `urls` with at most `lanes` reads at once, the outcomes in the order of `urls`. */
async function readInLanes(urls: readonly string[], lanes: number, read: (url: string) => Promise<ReadPage>): Promise<Reading[]> {
  const readings: Reading[] = [];
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < urls.length; index = next++) {
      readings[index] = await read(urls[index]!).then(
        (page) => ({ page }),
        (error: unknown) => ({ error }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, urls.length) }, lane));
  return readings;
}

/**
 * Reads a site the way a polite crawler does: robots.txt first (its rules, Crawl-delay and
 * sitemaps, for our user agent), then the home page, then the most informative pages its links
 * and sitemap offer, with the site's Crawl-delay between requests. A site that asks for no delay
 * is read `concurrentRequests` requests at a time (the sitemap while the home page is read, then
 * the pages), as a browser would: a crawl then waits for a few round trips instead of one per
 * page. A home page that cannot be read fails the crawl; another page that cannot be read is only
 * skipped.
 */
export function createSiteCrawler(options: SiteCrawlerOptions): SiteCrawler {
  const { fetcher, reader } = options;
  const maximumPages = options.maximumPages ?? 8;
  const sleep = options.sleep ?? realSleep;
  const concurrentRequests = options.concurrentRequests ?? 1;

  return {
    async crawl(url, signal) {
      const requestedUrl = normalizeWebsiteUrl(url, 'url');
      const robots = reader.appliesRobotsItself ? allowEverything : await loadRobotsPolicy(fetcher, new URL(requestedUrl).origin);
      if (robots.unavailable) throw robots.unavailable;
      if (!robots.isAllowed(requestedUrl)) {
        throw new FetchFailure('refused', `The site's robots.txt does not allow ${fetcher.userAgent.split('/')[0]} to read ${requestedUrl}.`, requestedUrl);
      }
      // Before the first page too: robots.txt (and the sitemap below) were requests to the same site.
      const delayMs = Math.min(robots.crawlDelayMs, longestCrawlDelayMs);
      let requestsMade = reader.appliesRobotsItself ? 0 : 1;
      const politely = async <Result>(request: () => Promise<Result>): Promise<Result> => {
        if (requestsMade > 0 && delayMs > 0) await sleep(delayMs, signal);
        requestsMade += 1;
        return request();
      };

      const lanes = delayMs > 0 ? 1 : concurrentRequests;
      const sitemapsFor = (base: string) => (robots.sitemaps.length > 0 ? robots.sitemaps : [new URL('/sitemap.xml', base).href]);
      // The sitemap asked while the home page is read, when the site allows two requests at once.
      // Its address without a Sitemap line depends on where the home page lands: checked below.
      let earlySitemap: { urls: string[]; pages: Promise<string[]> } | null = null;
      if (!reader.appliesRobotsItself && lanes > 1 && maximumPages > 1) {
        const urls = sitemapsFor(requestedUrl);
        earlySitemap = { urls, pages: politely(() => sitemapPages(fetcher, urls, 1)) };
      }

      const home = await politely(() => reader.read(requestedUrl, signal));
      const homeUrl = normalizeWebsiteUrl(home.url);
      const pages: CrawledPage[] = [{ url: homeUrl, kind: 'HOME', html: home.html, source: home.renderedBy ?? reader.source, metadata: home.metadata }];
      const skippedPages: CrawledSite['skippedPages'] = [];
      if (maximumPages <= 1) return { homeUrl, source: reader.source, pages, skippedPages };
      if (robots.crawlDelayMs > longestCrawlDelayMs) {
        skippedPages.push({ url: homeUrl, reason: `robots.txt asks for ${robots.crawlDelayMs / 1000} s between requests; only the home page was read` });
        return { homeUrl, source: reader.source, pages, skippedPages };
      }

      // The home page's links come from its extraction, which the analysis then reuses: one parse of it, not two.
      const extractedHome = extractPage(home.html, homeUrl);
      pages[0]!.extracted = extractedHome;
      const candidates = [...extractedHome.links];
      if (!reader.appliesRobotsItself) {
        const sitemaps = sitemapsFor(homeUrl);
        // A home page that redirected to another origin has its sitemap there: asked again.
        const early = earlySitemap && earlySitemap.urls.join('\n') === sitemaps.join('\n') ? earlySitemap.pages : null;
        candidates.push(...(await (early ?? politely(() => sitemapPages(fetcher, sitemaps, 1)))));
      }
      const plan = planPages({ homeUrl, candidates, robots, maximumPages: maximumPages - 1 });
      const readings = await readInLanes(
        plan.map((planned) => planned.url),
        lanes,
        (pageUrl) => {
          signal?.throwIfAborted();
          return politely(() => reader.read(pageUrl, signal));
        },
      );
      for (const [index, planned] of plan.entries()) {
        const reading = readings[index]!;
        if ('error' in reading) {
          if (!(reading.error instanceof FetchFailure)) throw reading.error;
          skippedPages.push({ url: planned.url, reason: reading.error.message });
          continue;
        }
        const pageUrl = normalizeWebsiteUrl(reading.page.url);
        // A page that redirects to one already read (e.g. /company → /about) adds nothing.
        if (pages.some((read) => read.url === pageUrl)) continue;
        pages.push({ url: pageUrl, kind: planned.kind === 'OTHER' ? pageKindOf(pageUrl) : planned.kind, html: reading.page.html, source: reading.page.renderedBy ?? reader.source, metadata: reading.page.metadata });
      }
      return { homeUrl, source: reader.source, pages, skippedPages };
    },
  };
}
