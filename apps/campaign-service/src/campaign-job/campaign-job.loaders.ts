import { createEntityLoader, createGroupLoader, type EntityManager, type SubgraphContext } from '@gtm/runtime';
import type { CampaignAssetLoaders } from '../campaign-asset/campaign-asset.loaders.js';
import type { CampaignLoaders } from '../campaign/campaign.loaders.js';
import { CampaignJob } from './campaign-job.entity.js';

/** A request's loaders of generateCampaign jobs. */
export function createCampaignJobLoaders(em: EntityManager) {
  return {
    campaignJobById: createEntityLoader(em, CampaignJob),
    jobsByCampaign: createGroupLoader(em, CampaignJob, 'campaignId', { orderBy: { createdAt: 'desc', id: 'desc' } }),
  };
}

export type CampaignJobLoaders = ReturnType<typeof createCampaignJobLoaders>;

/** What a request gives the campaign-job folder. */
export type CampaignJobContext = SubgraphContext<CampaignLoaders & CampaignAssetLoaders & CampaignJobLoaders>;
