import { attachJobWorker, createJobQueue, jobEntities } from '@gtm/jobs';
import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { CampaignEnrichmentPlanResolver } from './campaign/campaign.resolver.js';
import type { EnrichmentConfig } from './config.js';
import { DataSource } from './data-source/data-source.entity.js';
import { DataSourceResolver } from './data-source/data-source.resolver.js';
import { seedDataSourceCatalog } from './data-source/data-source.seed.js';
import { DataSourceService } from './data-source/data-source.service.js';
import { EnrichmentJob } from './enrichment-job/enrichment-job.entity.js';
import { enrichmentJobDefinition } from './enrichment-job/enrichment-job.kind.js';
import { EnrichmentJobResolver } from './enrichment-job/enrichment-job.resolver.js';
import { EnrichmentJobService } from './enrichment-job/enrichment-job.service.js';
import { EnrichmentPlanResolver } from './enrichment-plan/enrichment-plan.resolver.js';
import { EnrichmentPlanService } from './enrichment-plan/enrichment-plan.service.js';
import { EnrichmentRecord } from './enrichment-record/enrichment-record.entity.js';
import { createEnrichmentLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildEnrichmentSchema } from './schema.js';

export interface EnrichmentAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
}

const jobKinds = [enrichmentJobDefinition];

/**
 * The composition root of the enrichment service: builds its services and resolvers, starts the
 * subgraph, then (unless JOB_WORKER_CONCURRENCY is 0) the worker that runs its jobs.
 */
export async function createApp(config: EnrichmentConfig, overrides: EnrichmentAppOverrides = {}): Promise<SubgraphApp> {
  const dataSourceService = new DataSourceService();
  const enrichmentPlanService = new EnrichmentPlanService(dataSourceService);
  const resolvers = new Map<Function, object>([
    [DataSourceResolver, new DataSourceResolver(dataSourceService)],
    [EnrichmentPlanResolver, new EnrichmentPlanResolver(enrichmentPlanService)],
    [CampaignEnrichmentPlanResolver, new CampaignEnrichmentPlanResolver(enrichmentPlanService)],
  ]);
  const app = await startSubgraphApp({
    name: 'enrichment-service',
    config,
    entities: [...jobEntities, EnrichmentJob, EnrichmentRecord, DataSource],
    migrations,
    seed: (database, logger) => seedDataSourceCatalog(database, logger),
    buildSchema: async ({ redis, logger }) => {
      const jobs = createJobQueue({ databaseUrl: config.DATABASE_URL, redis, logger, kinds: jobKinds });
      await jobs.migrate();
      resolvers.set(EnrichmentJobResolver, new EnrichmentJobResolver(new EnrichmentJobService(jobs)));
      return buildEnrichmentSchema({ get: (resolverClass) => resolvers.get(resolverClass) });
    },
    createLoaders: createEnrichmentLoaders,
    ...overrides,
  });
  return attachJobWorker(app, { databaseUrl: config.DATABASE_URL, kinds: jobKinds, concurrency: config.JOB_WORKER_CONCURRENCY });
}
