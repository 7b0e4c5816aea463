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

/**
 * Reads a site the way a polite crawler does: robots.txt first (its rules, Crawl-delay and
 * sitemaps, for our user agent), then the home page, then the most informative pages its links
 * and sitemap offer, one at a time with the site's Crawl-delay between requests. A home page that
 * cannot be read fails the crawl; another page that cannot be read is only skipped.
 */
export function createSiteCrawler(options: SiteCrawlerOptions): SiteCrawler {
  const { fetcher, reader } = options;
  const maximumPages = options.maximumPages ?? 8;
  const sleep = options.sleep ?? realSleep;

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
        const sitemaps = robots.sitemaps.length > 0 ? robots.sitemaps : [new URL('/sitemap.xml', homeUrl).href];
        candidates.push(...(await politely(() => sitemapPages(fetcher, sitemaps, 1))));
      }
      const plan = planPages({ homeUrl, candidates, robots, maximumPages: maximumPages - 1 });
      for (const planned of plan) {
        signal?.throwIfAborted();
        try {
          const page = await politely(() => reader.read(planned.url, signal));
          const pageUrl = normalizeWebsiteUrl(page.url);
          // A page that redirects to one already read (e.g. /company → /about) adds nothing.
          if (pages.some((read) => read.url === pageUrl)) continue;
          pages.push({ url: pageUrl, kind: planned.kind === 'OTHER' ? pageKindOf(pageUrl) : planned.kind, html: page.html, source: page.renderedBy ?? reader.source, metadata: page.metadata });
        } catch (error) {
          if (!(error instanceof FetchFailure)) throw error;
          skippedPages.push({ url: planned.url, reason: error.message });
        }
      }
      return { homeUrl, source: reader.source, pages, skippedPages };
    },
  };
}
