import { normalizeWebsiteUrl, type SafeFetcher } from '@gtm/runtime';
import * as cheerio from 'cheerio';
import { kindPriority, pageKindOf, type PageKind } from './page-kind.js';
import type { RobotsPolicy } from './robots-policy.js';

export interface PlannedPage {
  url: string;
  kind: PageKind;
}

/** Links and sitemap entries that lead to pages of the same site, normalised like every website URL, without queries. */
function sameSitePages(urls: Iterable<string>, home: URL): string[] {
  const pages = new Set<string>();
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw, home);
    } catch {
      continue;
    }
    if (url.protocol !== home.protocol || url.host !== home.host) continue;
    if (/\.(pdf|png|jpe?g|gif|svg|webp|zip|mp4|css|js|xml|json|ico)$/i.test(url.pathname)) continue;
    // A query string rarely changes what a marketing page says; dropping it avoids reading one page twice.
    url.search = '';
    pages.add(normalizeWebsiteUrl(url.href));
  }
  return [...pages];
}

/** The `<loc>` entries of a sitemap (a sitemap index's entries are sitemaps, read one level deep). */
export async function sitemapPages(fetcher: SafeFetcher, sitemapUrls: string[], maximumSitemaps = 3): Promise<string[]> {
  const pages: string[] = [];
  const queue = [...sitemapUrls];
  let read = 0;
  while (queue.length > 0 && read < maximumSitemaps) {
    const sitemapUrl = queue.shift()!;
    read += 1;
    try {
      const document = cheerio.load((await fetcher.fetch(sitemapUrl)).body, { xml: true });
      document('sitemap > loc').each((_index, element) => void queue.push(document(element).text().trim()));
      document('url > loc').each((_index, element) => void pages.push(document(element).text().trim()));
    } catch {
      // A missing or broken sitemap only means fewer candidates: the home page's links remain.
    }
  }
  return pages;
}

/**
 * The pages to read after the home page: same-site links and sitemap entries that robots.txt
 * allows, the most informative kinds first (product, pricing, customers, about …), shallower
 * paths before deeper ones, at most one blog post, and at most `maximumPages` in all.
 */
export function planPages(options: { homeUrl: string; candidates: Iterable<string>; robots: RobotsPolicy; maximumPages: number }): PlannedPage[] {
  const home = new URL(options.homeUrl);
  const homeKey = normalizeWebsiteUrl(home.href);
  const scored = sameSitePages(options.candidates, home)
    .filter((url) => url !== homeKey && options.robots.isAllowed(url))
    .map((url) => ({ url, kind: pageKindOf(url), depth: new URL(url).pathname.split('/').filter(Boolean).length }))
    .toSorted((first, second) => kindPriority[second.kind] - kindPriority[first.kind] || first.depth - second.depth || first.url.localeCompare(second.url));
  const chosen: PlannedPage[] = [];
  let blogPosts = 0;
  for (const page of scored) {
    if (chosen.length >= options.maximumPages) break;
    if (page.kind === 'BLOG' && blogPosts++ >= 1) continue;
    chosen.push({ url: page.url, kind: page.kind });
  }
  return chosen;
}
