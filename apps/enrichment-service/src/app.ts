import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { CampaignEnrichmentPlanResolver } from './campaign/campaign.resolver.js';
import type { EnrichmentConfig } from './config.js';
import { DataSource } from './data-source/data-source.entity.js';
import { DataSourceResolver } from './data-source/data-source.resolver.js';
import { seedDataSourceCatalog } from './data-source/data-source.seed.js';
import { DataSourceService } from './data-source/data-source.service.js';
import { EnrichmentJob } from './enrichment-job/enrichment-job.entity.js';
import { EnrichmentJobResolver } from './enrichment-job/enrichment-job.resolver.js';
import { EnrichmentJobService } from './enrichment-job/enrichment-job.service.js';
import { EnrichmentPlanResolver } from './enrichment-plan/enrichment-plan.resolver.js';
import { EnrichmentPlanService } from './enrichment-plan/enrichment-plan.service.js';
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
  const dataSourceService = new DataSourceService();
  const enrichmentPlanService = new EnrichmentPlanService(dataSourceService);
  const resolvers = new Map<Function, object>([
    [EnrichmentJobResolver, new EnrichmentJobResolver(enrichmentJobService)],
    [DataSourceResolver, new DataSourceResolver(dataSourceService)],
    [EnrichmentPlanResolver, new EnrichmentPlanResolver(enrichmentPlanService)],
    [CampaignEnrichmentPlanResolver, new CampaignEnrichmentPlanResolver(enrichmentPlanService)],
  ]);
  return startSubgraphApp({
    name: 'enrichment-service',
    config,
    entities: [EnrichmentJob, DataSource],
    migrations,
    seed: (database, logger) => seedDataSourceCatalog(database, logger),
    buildSchema: () => buildEnrichmentSchema({ get: (resolverClass) => resolvers.get(resolverClass) }),
    createLoaders: createEnrichmentLoaders,
    ...overrides,
  });
}
