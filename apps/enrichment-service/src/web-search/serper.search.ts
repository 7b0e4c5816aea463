import { z } from 'zod';
import { callSearchApi, createSearchAgent, plainSnippet } from './search-http.js';
import { createSearchPolicy, type SearchPolicySettings } from './search-policy.js';
import type { WebSearchProvider } from './web-search.js';
import { WebSearchError } from './web-search.errors.js';

export interface SerperSettings extends SearchPolicySettings {
  /** `SERPER_API_KEY`, sent as `X-API-KEY`. */
  apiKey: string;
  /** `SERPER_BASE_URL`. Default: `https://google.serper.dev`. */
  baseUrl?: string;
  /** USD per query (`SERPER_COST_PER_QUERY_USD`). Default: 0.001, Serper's list price for its smallest pack. */
  costPerQueryUsd?: number;
}

// Serper's answer (google.serper.dev/search): Google's organic results and more; only these are read.
const serperAnswerSchema = z.object({
  organic: z
    .array(z.looseObject({ title: z.string().default(''), link: z.string(), snippet: z.string().default(''), position: z.number().optional() }))
    .default([]),
});

/**
 * Serper (Google results): `POST <baseUrl>/search` with `X-API-KEY` and a JSON body
 * `{ q, num, gl }`; results in `organic[]` as `{ title, link, snippet, position }`.
 */
export function createSerperSearch(settings: SerperSettings): WebSearchProvider {
  const name = 'serper';
  const baseUrl = (settings.baseUrl ?? 'https://google.serper.dev').replace(/\/+$/, '');
  const agent = createSearchAgent();
  const policy = createSearchPolicy(name, settings);
  const costPerQueryUsd = settings.costPerQueryUsd ?? 0.001;
  return {
    name,
    costPerQueryUsd,
    async search({ query, count = 10, country = 'us', signal }) {
      const body = await policy.execute(
        (attemptSignal) =>
          callSearchApi({
            provider: name,
            dispatcher: agent,
            method: 'POST',
            url: new URL(`${baseUrl}/search`),
            headers: { 'x-api-key': settings.apiKey, 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify({ q: query, num: Math.min(Math.max(count, 1), 20), gl: country.toLowerCase() }),
            signal: attemptSignal,
            errorMessage: (answer) => {
              const message = (answer as { message?: unknown } | undefined)?.message;
              return typeof message === 'string' ? message : undefined;
            },
          }),
        signal,
      );
      const parsed = serperAnswerSchema.safeParse(body);
      if (!parsed.success) throw new WebSearchError('SEARCH_PROVIDER_ERROR', `${name} answered without organic results in its format.`, true, name);
      const results = parsed.data.organic.map((result, index) => ({ url: result.link, title: plainSnippet(result.title), snippet: plainSnippet(result.snippet), position: result.position ?? index + 1 }));
      return { provider: name, query, results, costUsd: costPerQueryUsd };
    },
    circuit: () => policy.circuit(),
    close: () => agent.close(),
  };
}
