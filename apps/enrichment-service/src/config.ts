import { llmEnvironmentSchema } from '@gtm/llm';
import { jobWorkerEnvironmentSchema, parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';
import { webSearchEnvironmentSchema } from './web-search/web-search.config.js';

const httpUrl = z.string().refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s):// URL');
const integer = (minimum: number, maximum: number, fallback: number) => z.coerce.number().int().min(minimum).max(maximum).default(fallback);
const allowlistEntry = z
  .string()
  .regex(/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i, 'entries must be `host` or `host:port`, such as localhost:8080 or staging.internal');

const enrichmentEnvironmentSchema = z.object({
  ...subgraphEnvironmentSchema.shape,
  ...jobWorkerEnvironmentSchema.shape,
  ...llmEnvironmentSchema.shape,
  ...webSearchEnvironmentSchema.shape,
  PORT: portSchema.default(4003),
  /** content-service's GraphQL URL: websites are analysed there. Default: `http://127.0.0.1:4002/graphql`. */
  CONTENT_SERVICE_URL: httpUrl.default('http://127.0.0.1:4002/graphql'),
  /** Longest one website analysis may take, a first crawl included. Default: 120 000 ms. */
  CONTENT_SERVICE_TIMEOUT_MS: integer(100, 600_000, 120_000),
  /** Website analyses asked of content-service at once by this process. Default: 16. */
  CONTENT_SERVICE_MAX_CONCURRENCY: integer(1, 500, 16),
  /** campaign-service's GraphQL URL: a job's campaign is read there. Default: `http://127.0.0.1:4001/graphql`. */
  CAMPAIGN_SERVICE_URL: httpUrl.default('http://127.0.0.1:4001/graphql'),
  /** crm-service's GraphQL URL: a lead list's leads are read there. Default: `http://127.0.0.1:4004/graphql`. */
  CRM_SERVICE_URL: httpUrl.default('http://127.0.0.1:4004/graphql'),
  /** Longest one call to crm-service (a page of a lead list's leads) may take. Default: 15 000 ms. */
  CRM_SERVICE_TIMEOUT_MS: integer(100, 120_000, 15_000),
  /** Private `host` / `host:port` entries a candidate website may resolve to (local fixture sites). Default: none. */
  CONTENT_FETCH_ALLOWLIST: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(allowlistEntry)),
  /** Longest the check of one candidate website's page may take. Default: 10 000 ms. */
  WEBSITE_CHECK_TIMEOUT_MS: integer(200, 120_000, 10_000),
  /**
   * Runs of a job before a provider failure still worth retrying fails its records instead (each
   * retry waits e^attempt seconds: 3, 7, 20, 55 s). Default: 5.
   */
  ENRICHMENT_JOB_MAX_ATTEMPTS: integer(1, 10, 5),
  /** Records of one job enriched at once. Default: 20. */
  ENRICHMENT_RECORD_CONCURRENCY: integer(1, 500, 20),
  /** How long a web search's results are reused (per tenant); 0 turns the cache off. Default: 604 800 s (7 days). */
  SEARCH_CACHE_TTL_SECONDS: integer(0, 31_536_000, 604_800),
});

export type EnrichmentConfig = z.infer<typeof enrichmentEnvironmentSchema>;

/** The only place the enrichment service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): EnrichmentConfig {
  return parseEnvironment(enrichmentEnvironmentSchema, environment);
}
