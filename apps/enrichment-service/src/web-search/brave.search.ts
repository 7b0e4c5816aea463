import { z } from 'zod';
import { callSearchApi, createSearchAgent, plainSnippet } from './search-http.js';
import { createSearchPolicy, type SearchPolicySettings } from './search-policy.js';
import type { WebSearchProvider } from './web-search.js';
import { WebSearchError } from './web-search.errors.js';

export interface BraveSearchSettings extends SearchPolicySettings {
  /** `BRAVE_SEARCH_API_KEY`, sent as `X-Subscription-Token`. */
  apiKey: string;
  /** `BRAVE_SEARCH_BASE_URL`. Default: `https://api.search.brave.com`. */
  baseUrl?: string;
  /** USD per query (`BRAVE_SEARCH_COST_PER_QUERY_USD`). Default: 0.005, Brave's list price per 1,000 queries divided out. */
  costPerQueryUsd?: number;
}

const braveAnswerSchema = z.object({
  web: z
    .object({ results: z.array(z.looseObject({ title: z.string().default(''), url: z.string(), description: z.string().default('') })).default([]) })
    .optional(),
});

/** Brave's error body: `{ type: "ErrorResponse", error: { code, detail, status } }`. */
function braveErrorMessage(answer: unknown): string | undefined {
  const error = (answer as { error?: { code?: unknown; detail?: unknown } } | undefined)?.error;
  if (!error) return undefined;
  return [error.code, error.detail].filter((part): part is string => typeof part === 'string').join(': ') || undefined;
}

/**
 * Brave's rate-limit headers: `X-RateLimit-Reset: 1, 1419704` gives the seconds until each window
 * (per second, per month) resets; the first one that is exhausted (`X-RateLimit-Remaining: 0`) is
 * how long to wait.
 */
function braveRetryAfterMs(headers: Record<string, string | string[] | undefined>): number | undefined {
  const list = (name: string) => String(headers[name] ?? '').split(',').map((value) => Number(value.trim()));
  const resets = list('x-ratelimit-reset');
  const remaining = list('x-ratelimit-remaining');
  const exhausted = resets.filter((reset, index) => Number.isFinite(reset) && remaining[index] === 0);
  const reset = exhausted[0] ?? resets.find((value) => Number.isFinite(value) && value > 0);
  return reset === undefined || !Number.isFinite(reset) ? undefined : reset * 1000;
}

/**
 * Brave Search: `GET <baseUrl>/res/v1/web/search?q=…&count=…&country=…` with
 * `X-Subscription-Token`; results in `web.results[]` as `{ title, url, description }`.
 */
export function createBraveSearch(settings: BraveSearchSettings): WebSearchProvider {
  const name = 'brave';
  const baseUrl = (settings.baseUrl ?? 'https://api.search.brave.com').replace(/\/+$/, '');
  const agent = createSearchAgent();
  const policy = createSearchPolicy(name, settings);
  const costPerQueryUsd = settings.costPerQueryUsd ?? 0.005;
  return {
    name,
    costPerQueryUsd,
    async search({ query, count = 10, country = 'us', signal }) {
      const url = new URL(`${baseUrl}/res/v1/web/search`);
      url.search = new URLSearchParams({ q: query, count: String(Math.min(Math.max(count, 1), 20)), country: country.toLowerCase(), text_decorations: 'false' }).toString();
      const body = await policy.execute(
        (attemptSignal) =>
          callSearchApi({
            provider: name,
            dispatcher: agent,
            method: 'GET',
            url,
            headers: { 'x-subscription-token': settings.apiKey, accept: 'application/json' },
            signal: attemptSignal,
            retryAfterMs: braveRetryAfterMs,
            errorMessage: braveErrorMessage,
          }).catch((error: unknown) => {
            // Brave answers a bad or unsubscribed token with 422 SUBSCRIPTION_TOKEN_INVALID.
            if (error instanceof WebSearchError && error.code === 'SEARCH_BAD_REQUEST' && /SUBSCRIPTION_TOKEN/i.test(error.message)) {
              throw new WebSearchError('SEARCH_UNAUTHORIZED', error.message.replace('refused the query', 'refused the API key'), false, name, error.details);
            }
            throw error;
          }),
        signal,
      );
      const parsed = braveAnswerSchema.safeParse(body);
      if (!parsed.success) throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${name} answered without web results in its format.`, true, name);
      const results = (parsed.data.web?.results ?? []).map((result, index) => ({ url: result.url, title: plainSnippet(result.title), snippet: plainSnippet(result.description), position: index + 1 }));
      return { provider: name, query, results, costUsd: costPerQueryUsd };
    },
    circuit: () => policy.circuit(),
    close: () => agent.close(),
  };
}
