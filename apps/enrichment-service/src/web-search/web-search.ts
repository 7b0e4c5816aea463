import { WebSearchError, WebSearchUnavailableError } from './web-search.errors.js';

export interface WebSearchQuery {
  /** What to search for, as a user would type it. */
  query: string;
  /** Results wanted, 1 to 20. Default: 10. */
  count?: number;
  /** Two-letter country the results are for. Default: `us`. */
  country?: string;
  signal?: AbortSignal;
}

export interface WebSearchResult {
  url: string;
  title: string;
  /** The provider's snippet, as plain text. */
  snippet: string;
  /** 1-based rank in the provider's answer. */
  position: number;
}

export interface WebSearchAnswer {
  /** The provider that answered (`serper`, `brave`). */
  provider: string;
  query: string;
  results: WebSearchResult[];
  /** What the call cost at the provider's configured price per query. */
  costUsd: number;
}

/** One web-search provider behind the narrow interface enrichment uses. */
export interface WebSearchProvider {
  readonly name: string;
  /** USD per query, as configured; what a record is charged for a search. */
  readonly costPerQueryUsd: number;
  search(query: WebSearchQuery): Promise<WebSearchAnswer>;
  /** The provider's circuit, for health pages. */
  circuit(): 'closed' | 'open' | 'half-open';
  close(): Promise<void>;
}

/** Web search over providers in failover order. */
export interface WebSearch {
  readonly providers: readonly WebSearchProvider[];
  /** The price of one query at the first provider: what a budget check reserves. */
  readonly costPerQueryUsd: number;
  search(query: WebSearchQuery): Promise<WebSearchAnswer>;
  close(): Promise<void>;
}

/**
 * Asks the providers in order: the first answer wins. A provider that fails (after its own
 * retries) hands the query to the next one; a caller's abort stops at once. With no provider, every
 * search fails with `SEARCH_UNAVAILABLE` (not retryable) so records say what to configure.
 */
export function createWebSearch(providers: readonly WebSearchProvider[]): WebSearch {
  return {
    providers,
    costPerQueryUsd: providers[0]?.costPerQueryUsd ?? 0,
    async search(query) {
      const failures: WebSearchError[] = [];
      for (const provider of providers) {
        try {
          return await provider.search(query);
        } catch (error) {
          if (!(error instanceof WebSearchError) || error.code === 'SEARCH_ABORTED') throw error;
          failures.push(error);
        }
      }
      throw new WebSearchUnavailableError(failures);
    },
    async close() {
      await Promise.all(providers.map((provider) => provider.close()));
    },
  };
}
