import type { Logger } from '@gtm/runtime';
import { z } from 'zod';
import { createBraveSearch } from './brave.search.js';
import { createSerperSearch } from './serper.search.js';
import { createWebSearch, type WebSearch, type WebSearchProvider } from './web-search.js';

export const searchProviderNames = ['serper', 'brave'] as const;
export type SearchProviderName = (typeof searchProviderNames)[number];

const httpUrl = z.string().refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s):// URL');
const price = z.coerce.number().min(0).max(1);

/** The web-search settings (API.md "Environment"), spread into the service's config schema. */
export const webSearchEnvironmentSchema = z.object({
  /** Providers in failover order, e.g. `serper,brave`. Default: every provider whose key is set, Serper first. */
  SEARCH_PROVIDERS: z
    .string()
    .optional()
    .transform((value) => value?.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.enum(searchProviderNames, { error: `names ${searchProviderNames.join(' or ')}` })).optional()),
  SERPER_API_KEY: z.string().min(1).optional(),
  /** Default: https://google.serper.dev. */
  SERPER_BASE_URL: httpUrl.optional(),
  /** USD per query. Default: 0.001. */
  SERPER_COST_PER_QUERY_USD: price.default(0.001),
  BRAVE_SEARCH_API_KEY: z.string().min(1).optional(),
  /** Default: https://api.search.brave.com. */
  BRAVE_SEARCH_BASE_URL: httpUrl.optional(),
  /** USD per query. Default: 0.005. */
  BRAVE_SEARCH_COST_PER_QUERY_USD: price.default(0.005),
  /** Longest one search attempt may take. Default: 10 000 ms. */
  SEARCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Retries of a rate-limited or failed search, per provider. Default: 2. */
  SEARCH_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** Searches on the wire at once per provider. Default: 20. */
  SEARCH_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
});

export type WebSearchEnvironment = z.infer<typeof webSearchEnvironmentSchema>;

/** `SEARCH_PROVIDERS` as given, else every provider whose key is set. */
export function searchProviderOrder(config: WebSearchEnvironment): SearchProviderName[] {
  if (config.SEARCH_PROVIDERS) return config.SEARCH_PROVIDERS;
  return searchProviderNames.filter((name) => (name === 'serper' ? config.SERPER_API_KEY : config.BRAVE_SEARCH_API_KEY));
}

/**
 * The configured providers behind one `WebSearch`. A provider named without its key is skipped with
 * one warning naming the variable (never its value); with none left, searches fail saying what to set.
 */
export function createWebSearchFromConfig(config: WebSearchEnvironment, logger: Logger): WebSearch {
  const policy = { timeoutMs: config.SEARCH_TIMEOUT_MS, maxRetries: config.SEARCH_MAX_RETRIES, maxConcurrency: config.SEARCH_MAX_CONCURRENCY };
  const providers: WebSearchProvider[] = [];
  for (const name of searchProviderOrder(config)) {
    if (name === 'serper') {
      if (!config.SERPER_API_KEY) logger.warn({ provider: name, missing: 'SERPER_API_KEY' }, 'search provider serper skipped: SERPER_API_KEY is not set');
      else providers.push(createSerperSearch({ ...policy, apiKey: config.SERPER_API_KEY, baseUrl: config.SERPER_BASE_URL, costPerQueryUsd: config.SERPER_COST_PER_QUERY_USD }));
    } else if (!config.BRAVE_SEARCH_API_KEY) logger.warn({ provider: name, missing: 'BRAVE_SEARCH_API_KEY' }, 'search provider brave skipped: BRAVE_SEARCH_API_KEY is not set');
    else providers.push(createBraveSearch({ ...policy, apiKey: config.BRAVE_SEARCH_API_KEY, baseUrl: config.BRAVE_SEARCH_BASE_URL, costPerQueryUsd: config.BRAVE_SEARCH_COST_PER_QUERY_USD }));
  }
  if (providers.length === 0) logger.warn('no web-search provider configured: records without a website cannot be searched for (set SERPER_API_KEY or BRAVE_SEARCH_API_KEY)');
  return createWebSearch(providers);
}
