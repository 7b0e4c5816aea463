import type { CallerContext } from '@gtm/caller';
import { attachJobWorker, createJobQueue, jobEntities, type AttachJobWorkerOptions, type JobWorker } from '@gtm/jobs';
import { createLlmFromConfig } from '@gtm/llm';
import { createLlmUsageReporter, FetchAllowlist, startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { AssetCorrectionService } from './campaign-asset/asset-correction.service.js';
import { CampaignAsset, CampaignAssetVersion, CampaignCorrection } from './campaign-asset/campaign-asset.entity.js';
import { CampaignAssetRepository } from './campaign-asset/campaign-asset.repository.js';
import { CampaignAssetResolver } from './campaign-asset/campaign-asset.resolver.js';
import { CampaignAssetService } from './campaign-asset/campaign-asset.service.js';
import { GenerationEngine } from './campaign-asset/generation.engine.js';
import { CampaignJob } from './campaign-job/campaign-job.entity.js';
import { createCampaignJobKind } from './campaign-job/campaign-job.kind.js';
import { CampaignJobResolver, CampaignJobsResolver } from './campaign-job/campaign-job.resolver.js';
import { CampaignJobService } from './campaign-job/campaign-job.service.js';
import { Campaign } from './campaign/campaign.entity.js';
import { CampaignResolver } from './campaign/campaign.resolver.js';
import { CampaignService } from './campaign/campaign.service.js';
import { WebsiteCampaignsResolver } from './campaign/website-campaigns.resolver.js';
import type { CampaignConfig } from './config.js';
import { IcpResolver } from './icp/icp.resolver.js';
import { IcpService } from './icp/icp.service.js';
import { createRequestLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildCampaignSchema } from './schema.js';
import { ContentClient } from './website/content.client.js';
import type { WebsiteContextSource } from './website/website-context.js';

export interface CampaignAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
  /** Where generation reads a request's website. Default: content-service, with the caller's token. */
  websiteFor?: (request: { caller: CallerContext; callerToken: string | undefined }) => WebsiteContextSource;
  /** Worker timings, for tests. Default: libs/jobs' defaults. */
  jobWorker?: Pick<AttachJobWorkerOptions, 'pollIntervalMs' | 'shutdownAbortAfterMs'>;
}

/** The services the app runs on, for in-process callers (tests, the benchmark). */
export interface CampaignServices {
  assets: CampaignAssetService;
  repository: CampaignAssetRepository;
  engine: GenerationEngine;
  jobs: CampaignJobService;
}

export interface CampaignApp extends SubgraphApp {
  services: CampaignServices;
  /** Runs the generateCampaign jobs; null when JOB_WORKER_CONCURRENCY is 0. */
  worker: JobWorker | null;
}

/**
 * The composition root of the campaign service: builds its services and resolvers, starts the
 * subgraph, then (unless JOB_WORKER_CONCURRENCY is 0) the worker that runs its generateCampaign jobs.
 */
export async function createApp(config: CampaignConfig, overrides: CampaignAppOverrides = {}): Promise<CampaignApp> {
  const { websiteFor, jobWorker, ...appOverrides } = overrides;
  const campaignService = new CampaignService({ websiteAllowlist: new FetchAllowlist(config.CONTENT_FETCH_ALLOWLIST) });
  const repository = new CampaignAssetRepository();
  const content = new ContentClient({ url: config.CONTENT_SERVICE_URL, timeoutMs: config.CONTENT_SERVICE_TIMEOUT_MS });
  let services: CampaignServices | undefined;
  let jobKind: ReturnType<typeof createCampaignJobKind> | undefined;
  const app = await startSubgraphApp({
    name: 'campaign-service',
    config,
    entities: [Campaign, CampaignAsset, CampaignAssetVersion, CampaignCorrection, ...jobEntities, CampaignJob],
    migrations,
    buildSchema: async ({ redis, logger }) => {
      const usageReporter = createLlmUsageReporter({ redis, service: 'campaign-service', logger });
      const llm = createLlmFromConfig(config, {
        redis,
        logger,
        onUsage: (record) => (record.attribution ? usageReporter.report(record.attribution, record) : undefined),
      });
      const engine = new GenerationEngine({ llm, repository });
      jobKind = createCampaignJobKind({ engine, repository });
      const queue = createJobQueue({ databaseUrl: config.DATABASE_URL, redis, logger, kinds: [jobKind] });
      await queue.migrate();
      const assetService = new CampaignAssetService({ engine, corrections: new AssetCorrectionService({ engine, repository, llm }) });
      const jobService = new CampaignJobService({ queue, engine, repository });
      services = { assets: assetService, repository, engine, jobs: jobService };
      const resolvers = new Map<Function, object>([
        [CampaignResolver, new CampaignResolver(campaignService)],
        [WebsiteCampaignsResolver, new WebsiteCampaignsResolver(campaignService)],
        [CampaignAssetResolver, new CampaignAssetResolver(assetService)],
        [CampaignJobResolver, new CampaignJobResolver(jobService)],
        [CampaignJobsResolver, new CampaignJobsResolver(jobService)],
        [IcpResolver, new IcpResolver(new IcpService(campaignService, engine, repository))],
      ]);
      return buildCampaignSchema({ get: (resolverClass) => resolvers.get(resolverClass) });
    },
    createLoaders: (em, caller, callerToken) => createRequestLoaders(em, repository, websiteFor?.({ caller, callerToken }) ?? content.forCaller(callerToken)),
    ...appOverrides,
  });
  const withWorker = await attachJobWorker(app, { databaseUrl: config.DATABASE_URL, kinds: [jobKind!], concurrency: config.JOB_WORKER_CONCURRENCY, ...jobWorker });
  return { ...withWorker, services: services! };
}
