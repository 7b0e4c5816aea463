import { llmEnvironmentSchema } from '@gtm/llm';
import { fetchAllowlistSchema, parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';
import { renderModes } from './crawl/rendering-page-reader.js';

const integer = (minimum: number, maximum: number, fallback: number) => z.coerce.number().int().min(minimum).max(maximum).default(fallback);

const contentEnvironmentSchema = z.object({
  ...subgraphEnvironmentSchema.shape,
  ...llmEnvironmentSchema.shape,
  PORT: portSchema.default(4002),
  /** Private hosts the crawler may fetch (see `fetchAllowlistSchema`). Default: none. */
  CONTENT_FETCH_ALLOWLIST: fetchAllowlistSchema,
  /** Longest one page may take, redirects included. Default: 15 000 ms. */
  CONTENT_FETCH_TIMEOUT_MS: integer(500, 120_000, 15_000),
  /** Largest page read, in bytes. Default: 5 MiB. */
  CONTENT_FETCH_MAX_BYTES: integer(10_000, 50 * 1024 * 1024, 5 * 1024 * 1024),
  /** Requests in flight to one site at a time. Default: 2. */
  CONTENT_FETCH_PER_HOST_CONCURRENCY: integer(1, 16, 2),
  /** Pages read per site, the home page included. Default: 8. */
  CONTENT_MAX_PAGES: integer(1, 50, 8),
  /** How long an analysis is reused before a new crawl; `refresh: true` always crawls. Default: 86 400 s (24 h). */
  CONTENT_ANALYSIS_TTL_SECONDS: integer(0, 31_536_000, 86_400),
  /** Render JavaScript pages in Chromium: `off`, `auto` (pages whose HTML is an empty shell) or `always`. Default: `off`. */
  CONTENT_RENDER_JAVASCRIPT: z.enum(renderModes).default('off'),
  /**
   * The Chromium that renders pages. Default: `/usr/bin/chromium` (Debian's package) when it is
   * installed, else the one the npm package `@sparticuz/chromium` ships.
   */
  CHROMIUM_PATH: z.string().min(1).optional(),
  /** When set, pages are read through Firecrawl's API instead of directly. Default: unset. */
  FIRECRAWL_API_KEY: z.string().min(1).optional(),
  /** Default: `https://api.firecrawl.dev`; a self-hosted Firecrawl gives its own. */
  FIRECRAWL_API_URL: z
    .string()
    .refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s):// URL')
    .default('https://api.firecrawl.dev'),
});

export type ContentConfig = z.infer<typeof contentEnvironmentSchema>;

/** The only place the content service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ContentConfig {
  return parseEnvironment(contentEnvironmentSchema, environment);
}
