import { parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';

const enrichmentEnvironmentSchema = subgraphEnvironmentSchema.extend({
  PORT: portSchema.default(4003),
  /** Enrichment jobs this process runs at once; 0 runs none here (another process runs them). Default: 2. */
  JOB_WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(32).default(2),
});

export type EnrichmentConfig = z.infer<typeof enrichmentEnvironmentSchema>;

/** The only place the enrichment service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): EnrichmentConfig {
  return parseEnvironment(enrichmentEnvironmentSchema, environment);
}
