import { llmEnvironmentSchema } from '@gtm/llm';
import { fetchAllowlistSchema, jobWorkerEnvironmentSchema, parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';

const httpUrl = z.string().refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s):// URL');

const campaignEnvironmentSchema = z.object({
  ...subgraphEnvironmentSchema.shape,
  ...llmEnvironmentSchema.shape,
  ...jobWorkerEnvironmentSchema.shape,
  PORT: portSchema.default(4001),
  /**
   * The content subgraph's GraphQL URL: generation reads the website analysis and its passages
   * there, with the caller's token. Default: `http://127.0.0.1:4002/graphql` (its `npm start` port).
   */
  CONTENT_SERVICE_URL: httpUrl.default('http://127.0.0.1:4002/graphql'),
  /**
   * Longest a call to the content service may take. It covers `analyzeWebsite`, which crawls a
   * site that was never analysed (up to CONTENT_MAX_PAGES pages, each within
   * CONTENT_FETCH_TIMEOUT_MS). Default: 120 000 ms.
   */
  CONTENT_SERVICE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(120_000),
  /**
   * The content service's list of private hosts it may fetch, the same value: a campaign's website
   * is refused at creation when its address is one analysis always refuses, unless listed here.
   */
  CONTENT_FETCH_ALLOWLIST: fetchAllowlistSchema,
});

export type CampaignConfig = z.infer<typeof campaignEnvironmentSchema>;

/** The only place the campaign service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): CampaignConfig {
  return parseEnvironment(campaignEnvironmentSchema, environment);
}
