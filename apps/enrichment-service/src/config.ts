import { parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import type { z } from 'zod';

const enrichmentEnvironmentSchema = subgraphEnvironmentSchema.extend({
  PORT: portSchema.default(4003),
});

export type EnrichmentConfig = z.infer<typeof enrichmentEnvironmentSchema>;

/** The only place the enrichment service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): EnrichmentConfig {
  return parseEnvironment(enrichmentEnvironmentSchema, environment);
}
