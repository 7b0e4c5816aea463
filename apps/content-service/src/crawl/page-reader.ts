import type { PageSource } from '../website/website.entity.js';
import type { SafeFetcher } from '@gtm/runtime';

export interface ReadPage {
  /** Where the content came from, after redirects. */
  url: string;
  html: string;
  /** What the reader knows of the page besides its HTML (Firecrawl's metadata), used where the HTML lacks it. */
  metadata?: { title?: string; description?: string };
  /** Set when another reader than the one asked produced the page (Chromium rendering a thin page). */
  renderedBy?: PageSource;
}

/** How a crawl gets a page's HTML: straight from the site, through Firecrawl, or rendered by Chromium. */
export interface PageReader {
  readonly source: PageSource;
  /**
   * Whether the reader fetches from somewhere else that applies robots.txt itself (Firecrawl); the
   * crawler then neither reads robots.txt nor the sitemap from here.
   */
  readonly appliesRobotsItself: boolean;
  /** Fails with a FetchFailure the user can act on. */
  read(url: string, signal?: AbortSignal): Promise<ReadPage>;
  close?(): Promise<void>;
}

const htmlTypes = ['text/html', 'application/xhtml+xml'] as const;

/** Reads pages with the SSRF-safe fetcher; anything but HTML is an unusable answer. */
export function createDirectPageReader(fetcher: SafeFetcher): PageReader {
  return {
    source: 'DIRECT',
    appliesRobotsItself: false,
    async read(url, signal) {
      const page = await fetcher.fetch(url, { accept: htmlTypes, signal });
      return { url: page.url, html: page.body };
    },
  };
}
