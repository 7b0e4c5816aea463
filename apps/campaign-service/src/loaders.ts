import type { EntityManager, SubgraphContext } from '@gtm/runtime';
import type { CampaignAssetRepository } from './campaign-asset/campaign-asset.repository.js';
import { createCampaignAssetLoaders } from './campaign-asset/campaign-asset.loaders.js';
import { createCampaignJobLoaders } from './campaign-job/campaign-job.loaders.js';
import { createCampaignLoaders } from './campaign/campaign.loaders.js';
import type { WebsiteContextSource } from './website/website-context.js';

/** Everything one request of the campaign service reads through: each folder's loaders, and the request's website source. */
export function createRequestLoaders(em: EntityManager, repository: CampaignAssetRepository, website: WebsiteContextSource) {
  return { ...createCampaignLoaders(em), ...createCampaignAssetLoaders(em, repository, website), ...createCampaignJobLoaders(em) };
}

export type RequestLoaders = ReturnType<typeof createRequestLoaders>;

export type RequestContext = SubgraphContext<RequestLoaders>;
