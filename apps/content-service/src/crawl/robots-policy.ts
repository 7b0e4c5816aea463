import robotsParserModule from 'robots-parser';
import { FetchFailure, type SafeFetcher } from '@gtm/runtime';

// robots-parser is CommonJS whose typings declare an ES default export: under `nodenext`
// TypeScript types the default import as the module, while Node hands over module.exports, the
// function itself.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;

export interface RobotsPolicy {
  isAllowed(url: string): boolean;
  /** The site's Crawl-delay for our user agent, in milliseconds; 0 when it sets none. */
  crawlDelayMs: number;
  sitemaps: string[];
  /** Why robots.txt could not be read, when that is why nothing is allowed (the site is down or failing). */
  unavailable?: FetchFailure;
}

/** Longest Crawl-delay honoured; a site asking for more is crawled no further than its home page. */
export const longestCrawlDelayMs = 10_000;

/**
 * Reads a site's robots.txt the way the major crawlers do: none (4xx) means everything is allowed;
 * a server error means nothing is, since the site may be telling us to stay away; rules are
 * matched for our user agent's product token.
 */
export async function loadRobotsPolicy(fetcher: SafeFetcher, origin: string): Promise<RobotsPolicy> {
  const robotsUrl = new URL('/robots.txt', origin).href;
  const agent = fetcher.userAgent.split('/')[0]!;
  let text: string;
  try {
    text = (await fetcher.fetch(robotsUrl)).body;
  } catch (error) {
    if (error instanceof FetchFailure && error.kind === 'unusable-response') return { isAllowed: () => true, crawlDelayMs: 0, sitemaps: [] };
    if (error instanceof FetchFailure && error.kind === 'unreachable') return { isAllowed: () => false, crawlDelayMs: 0, sitemaps: [], unavailable: error };
    throw error;
  }
  const robots = robotsParser(robotsUrl, text);
  const delaySeconds = robots.getCrawlDelay(agent) ?? 0;
  return {
    isAllowed: (url) => robots.isAllowed(url, agent) !== false,
    crawlDelayMs: Math.max(0, Math.round(delaySeconds * 1000)),
    sitemaps: robots.getSitemaps(),
  };
}
