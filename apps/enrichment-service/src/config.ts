import { jobWorkerEnvironmentSchema, parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';

const enrichmentEnvironmentSchema = subgraphEnvironmentSchema.extend({
  ...jobWorkerEnvironmentSchema.shape,
  PORT: portSchema.default(4003),
});

export type EnrichmentConfig = z.infer<typeof enrichmentEnvironmentSchema>;

/** The only place the enrichment service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): EnrichmentConfig {
  return parseEnvironment(enrichmentEnvironmentSchema, environment);
}
