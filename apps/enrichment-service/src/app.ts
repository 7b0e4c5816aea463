import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import type { EnrichmentConfig } from './config.js';
import { EnrichmentJob } from './enrichment-job/enrichment-job.entity.js';
import { EnrichmentJobResolver } from './enrichment-job/enrichment-job.resolver.js';
import { EnrichmentJobService } from './enrichment-job/enrichment-job.service.js';
import { createEnrichmentLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildEnrichmentSchema } from './schema.js';

export interface EnrichmentAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
}

/** The composition root of the enrichment service: builds its services and resolvers, then starts it. */
export async function createApp(config: EnrichmentConfig, overrides: EnrichmentAppOverrides = {}): Promise<SubgraphApp> {
  const enrichmentJobService = new EnrichmentJobService();
  const resolvers = new Map<Function, object>([[EnrichmentJobResolver, new EnrichmentJobResolver(enrichmentJobService)]]);
  return startSubgraphApp({
    name: 'enrichment-service',
    config,
    entities: [EnrichmentJob],
    migrations,
    buildSchema: () => buildEnrichmentSchema({ get: (resolverClass) => resolvers.get(resolverClass) }),
    createLoaders: createEnrichmentLoaders,
    ...overrides,
  });
}
