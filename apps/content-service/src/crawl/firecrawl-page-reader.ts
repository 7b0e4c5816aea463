import { isIP } from 'node:net';
import { FetchAllowlist, FetchFailure, internalHostNames, refusalReasonOf } from '@gtm/runtime';
import type { PageReader } from './page-reader.js';

export interface FirecrawlPageReaderOptions {
  apiKey: string;
  /** Default: `https://api.firecrawl.dev` (a self-hosted Firecrawl gives its own). */
  apiUrl?: string;
  /** Longest one scrape may take, Firecrawl's own wait included. Default: 45 000 ms. */
  timeoutMs?: number;
  /** Hosts that may be private (the same `CONTENT_FETCH_ALLOWLIST` as direct fetching). Default: none. */
  allowlist?: readonly string[];
}

interface FirecrawlScrapeAnswer {
  success?: boolean;
  error?: string;
  data?: { html?: string; rawHtml?: string; metadata?: { title?: unknown; description?: unknown; sourceURL?: string; url?: string; statusCode?: number; error?: string } };
}

// Firecrawl reports a meta tag that occurs twice as an array of its values.
const firstText = (value: unknown): string | undefined => {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text.trim() ? text.trim() : undefined;
};

/**
 * Reads pages through Firecrawl's scrape API (v2), which renders JavaScript and applies robots.txt
 * on its side. Firecrawl fetches from its own network, so DNS is not resolved here; addresses that
 * are private by their spelling (IP literals, `localhost`, `.internal` …) are still refused, since a
 * self-hosted Firecrawl runs inside ours.
 */
export function createFirecrawlPageReader(options: FirecrawlPageReaderOptions): PageReader {
  const endpoint = new URL('/v2/scrape', options.apiUrl ?? 'https://api.firecrawl.dev').href;
  const timeoutMs = options.timeoutMs ?? 45_000;
  const allowlist = new FetchAllowlist(options.allowlist ?? []);

  const refuseInternal = (url: string) => {
    const target = new URL(url);
    if (allowlist.admits(target)) return;
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // An internal name only means something inside a network: a self-hosted Firecrawl would resolve it there.
    const reason = isIP(host) ? refusalReasonOf(host) : internalHostNames.test(host) ? `internal name ${host}` : null;
    if (reason) throw new FetchFailure('refused', `${url} leads to a ${reason}, which is never fetched.`, url);
  };

  return {
    source: 'FIRECRAWL',
    appliesRobotsItself: true,
    async read(url, signal) {
      refuseInternal(url);
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url, formats: ['rawHtml'], onlyMainContent: false, timeout: timeoutMs - 1_000 }),
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new FetchFailure('unreachable', `Firecrawl could not be reached to read ${url}; try again later.`, url, { cause: error });
      }
      const answer = (await response.json().catch(() => ({}))) as FirecrawlScrapeAnswer;
      if (!response.ok || answer.success === false) {
        // 401/402/429/5xx are about our Firecrawl account or its availability, not the user's URL.
        const why = answer.error ? `: ${answer.error.slice(0, 200)}` : '';
        const kind = response.status === 400 || response.status === 403 ? 'refused' : 'unreachable';
        throw new FetchFailure(kind, `Firecrawl could not read ${url} (HTTP ${response.status}${why}).`, url);
      }
      const html = answer.data?.rawHtml ?? answer.data?.html;
      const status = answer.data?.metadata?.statusCode ?? 200;
      if (status >= 400) throw new FetchFailure(status >= 500 ? 'unreachable' : 'unusable-response', `${url} answered HTTP ${status}.`, url);
      if (!html) throw new FetchFailure('unusable-response', `Firecrawl returned no HTML for ${url}.`, url);
      const metadata = answer.data?.metadata;
      return { url: metadata?.url ?? metadata?.sourceURL ?? url, html, metadata: { title: firstText(metadata?.title), description: firstText(metadata?.description) } };
    },
  };
}
