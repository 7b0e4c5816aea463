import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { Campaign } from './campaign/campaign.entity.js';
import { CampaignResolver } from './campaign/campaign.resolver.js';
import { CampaignService } from './campaign/campaign.service.js';
import type { CampaignConfig } from './config.js';
import { createCampaignLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildCampaignSchema } from './schema.js';
import { WebsiteResolver } from './website/website.resolver.js';

export interface CampaignAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
}

/** The composition root of the campaign service: builds its services and resolvers, then starts it. */
export async function createApp(config: CampaignConfig, overrides: CampaignAppOverrides = {}): Promise<SubgraphApp> {
  const campaignService = new CampaignService();
  const resolvers = new Map<Function, object>([
    [CampaignResolver, new CampaignResolver(campaignService)],
    [WebsiteResolver, new WebsiteResolver(campaignService)],
  ]);
  return startSubgraphApp({
    name: 'campaign-service',
    config,
    entities: [Campaign],
    migrations,
    buildSchema: () => buildCampaignSchema({ get: (resolverClass) => resolvers.get(resolverClass) }),
    createLoaders: createCampaignLoaders,
    ...overrides,
  });
}
