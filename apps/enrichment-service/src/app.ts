import { attachEventRelay } from '@gtm/events';
import { attachJobWorker, createJobQueue, jobEntities } from '@gtm/jobs';
import { createLlmFromConfig, defaultLlmPrices, findPrice, type Llm } from '@gtm/llm';
import { createLlmUsageReporter, createSafeFetcher, GraphQLUpstream, startSubgraphApp, type HostResolver, type Logger, type SubgraphApp } from '@gtm/runtime';
import { createSecretBox } from '@gtm/secrets';
import { createCallerTokenVerifier } from '@gtm/caller';
import { createFileRoutes, createFileTickets } from '@gtm/files';
import { CampaignClient } from './campaign-context/campaign.client.js';
import { CampaignEnrichmentPlanResolver } from './campaign/campaign.resolver.js';
import type { EnrichmentConfig } from './config.js';
import { DataSource } from './data-source/data-source.entity.js';
import { DataSourceResolver } from './data-source/data-source.resolver.js';
import { seedDataSourceCatalog } from './data-source/data-source.seed.js';
import { DataSourceService } from './data-source/data-source.service.js';
import { createEnrichmentExportHandler, enrichmentExportPurpose } from './enrichment-file/enrichment-export.js';
import { createEnrichmentUploadHandler, enrichmentUploadPurpose } from './enrichment-file/enrichment-upload.js';
import { EnrichmentJob } from './enrichment-job/enrichment-job.entity.js';
import { createEnrichmentJobKind } from './enrichment-job/enrichment-job.kind.js';
import { EnrichmentJobResolver } from './enrichment-job/enrichment-job.resolver.js';
import { EnrichmentJobService } from './enrichment-job/enrichment-job.service.js';
import { EnrichmentPlanResolver } from './enrichment-plan/enrichment-plan.resolver.js';
import { EnrichmentPlanService } from './enrichment-plan/enrichment-plan.service.js';
import type { EnrichmentServices } from './enrichment-pipeline/record-enrichment.js';
import { EnrichmentRecord } from './enrichment-record/enrichment-record.entity.js';
import { EnrichmentRecordResolver } from './enrichment-record/enrichment-record.resolver.js';
import { LeadEnrichmentResolver } from './lead/lead.resolver.js';
import { LeadListSource } from './lead-list/lead-list.source.js';
import { createEnrichmentLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildEnrichmentSchema } from './schema.js';
import { createWebSearchFromConfig, type WebSearch } from './web-search/index.js';
import { WebsiteAnalysisClient } from './website-analysis/website-analysis.client.js';
import { SearchCache } from './website-discovery/search-cache.js';
import { WebsiteFinder } from './website-discovery/website-finder.js';

export interface EnrichmentAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
  /** How candidate websites' host names are resolved (tests give fixture hosts 127.0.0.1). Default: DNS. */
  resolveHost?: HostResolver;
  /** Web search to use instead of the configured providers (benchmarks). Default: from config. */
  search?: WebSearch;
}

/** Expected tokens of a model's answer to an enrichment task (subject, opener, quotes; or a score and reasons). */
const expectedOutputTokens = 400;

/** What a call of the first model in the failover order is expected to cost; 0 when it is the offline provider. */
function llmCostEstimator(llm: Llm, config: EnrichmentConfig): (promptCharacters: number) => number {
  const first = llm.providerStates()[0];
  if (!first || first.provider === 'offline') return () => 0;
  const price = findPrice(config.LLM_PRICES ?? defaultLlmPrices, first.model);
  if (!price) return () => 0;
  // About four characters a token, plus the task's instructions and schema.
  return (characters) => ((characters / 4 + 600) * price.inputPerMillion + expectedOutputTokens * price.outputPerMillion) / 1e6;
}

/**
 * The composition root of the enrichment service: builds its services and resolvers, starts the
 * subgraph, then (unless JOB_WORKER_CONCURRENCY is 0) the worker that runs its jobs.
 */
export async function createApp(config: EnrichmentConfig, overrides: EnrichmentAppOverrides = {}): Promise<SubgraphApp> {
  const dataSourceService = new DataSourceService();
  const enrichmentPlanService = new EnrichmentPlanService(dataSourceService);
  const secrets = createSecretBox({ keys: config.SECRETS_KEY });
  const verifier = await createCallerTokenVerifier({ publicKeyPem: config.CALLER_TOKEN_PUBLIC_KEY });
  const fetcher = createSafeFetcher({ allowlist: config.CONTENT_FETCH_ALLOWLIST, timeoutMs: config.WEBSITE_CHECK_TIMEOUT_MS, maximumBytes: 2 * 1024 * 1024, resolveHost: overrides.resolveHost });
  const resolvers = new Map<Function, object>([
    [DataSourceResolver, new DataSourceResolver(dataSourceService)],
    [EnrichmentPlanResolver, new EnrichmentPlanResolver(enrichmentPlanService)],
    [CampaignEnrichmentPlanResolver, new CampaignEnrichmentPlanResolver(enrichmentPlanService)],
    [LeadEnrichmentResolver, new LeadEnrichmentResolver()],
    [EnrichmentRecordResolver, new EnrichmentRecordResolver()],
  ]);
  const tickets = createFileTickets({ secretsKey: config.SECRETS_KEY });
  let jobKind: ReturnType<typeof createEnrichmentJobKind> | undefined;
  let jobs: ReturnType<typeof createJobQueue> | undefined;
  let search: WebSearch | undefined;
  const app = await startSubgraphApp({
    name: 'enrichment-service',
    config,
    entities: [...jobEntities, EnrichmentJob, EnrichmentRecord, DataSource],
    migrations,
    seed: (database, logger) => seedDataSourceCatalog(database, logger),
    buildSchema: async ({ database, redis, logger }) => {
      const usageReporter = createLlmUsageReporter({ redis, service: 'enrichment-service', logger });
      const llm = createLlmFromConfig(config, { redis, logger, onUsage: (record) => (record.attribution ? usageReporter.report(record.attribution, record) : undefined) });
      search = overrides.search ?? createWebSearchFromConfig(config, logger);
      const services: EnrichmentServices = {
        finder: new WebsiteFinder({ search, fetcher, cache: new SearchCache(database, config.SEARCH_CACHE_TTL_SECONDS), allowlist: config.CONTENT_FETCH_ALLOWLIST }),
        analysis: new WebsiteAnalysisClient({ url: config.CONTENT_SERVICE_URL, timeoutMs: config.CONTENT_SERVICE_TIMEOUT_MS, maxConcurrency: config.CONTENT_SERVICE_MAX_CONCURRENCY }),
        llm,
        estimateLlmCostUsd: llmCostEstimator(llm, config),
        logger,
      };
      const leadLists = new LeadListSource(new GraphQLUpstream({ service: 'crm-service', url: config.CRM_SERVICE_URL, timeoutMs: config.CRM_SERVICE_TIMEOUT_MS }));
      jobKind = createEnrichmentJobKind({ services, secrets, leadLists, concurrency: config.ENRICHMENT_RECORD_CONCURRENCY, maxAttempts: config.ENRICHMENT_JOB_MAX_ATTEMPTS });
      jobs = createJobQueue({ databaseUrl: config.DATABASE_URL, redis, logger, kinds: [jobKind] });
      await jobs.migrate();
      const campaigns = new CampaignClient({ url: config.CAMPAIGN_SERVICE_URL });
      resolvers.set(EnrichmentJobResolver, new EnrichmentJobResolver(new EnrichmentJobService({ jobs, campaigns, secrets, verifier, tickets, leadLists })));
      return buildEnrichmentSchema({ get: (resolverClass) => resolvers.get(resolverClass) });
    },
    // Uploaded lists and result files, through the gateway's /files/enrichment/<ticket> (decision 0031).
    routes: ({ database, logger, verifier: callerVerifier }) =>
      createFileRoutes({
        service: 'enrichment',
        tickets,
        verifier: callerVerifier,
        logger,
        uploads: { [enrichmentUploadPurpose]: createEnrichmentUploadHandler({ database, jobs: jobs! }) },
        downloads: { [enrichmentExportPurpose]: createEnrichmentExportHandler({ database }) },
      }),
    createLoaders: createEnrichmentLoaders,
    logger: overrides.logger,
    onQuery: overrides.onQuery,
  });
  // Results of lead list jobs reach the leads' service (crm-service) from this service's outbox.
  const withRelay = await attachEventRelay(app, { databaseUrl: config.DATABASE_URL });
  const withWorker = await attachJobWorker(withRelay, { databaseUrl: config.DATABASE_URL, kinds: [jobKind!], concurrency: config.JOB_WORKER_CONCURRENCY });
  return {
    ...withWorker,
    async close() {
      await withWorker.close();
      await Promise.allSettled([fetcher.close(), search?.close()]);
    },
  };
}
