import { createGroupLoader, isUuid, type EntityManager, type SubgraphContext } from '@gtm/runtime';
import DataLoader from 'dataloader';
import type { CampaignLoaders } from '../campaign/campaign.loaders.js';
import type { WebsiteContextSource } from '../website/website-context.js';
import { CampaignCorrection } from './campaign-asset.entity.js';
import type { AssetRecord, CampaignAssetRepository } from './campaign-asset.repository.js';

/**
 * A request's loaders of campaign assets, and its website source: one per request, so that every
 * generation the request makes shares its searches (and the caller's token they are sent with).
 */
export function createCampaignAssetLoaders(em: EntityManager, repository: CampaignAssetRepository, website: WebsiteContextSource) {
  return {
    // Every asset field of every campaign in a response: two queries (states, then their current versions).
    assetsByCampaign: new DataLoader<string, AssetRecord[]>(
      async (campaignIds) => {
        const valid = [...new Set(campaignIds.filter(isUuid))];
        const records = await repository.loadMany(em, valid);
        return campaignIds.map((id) => records.get(id) ?? []);
      },
      { maxBatchSize: 1_000 },
    ),
    correctionsByCampaign: createGroupLoader(em, CampaignCorrection, 'campaignId', { orderBy: { createdAt: 'asc', id: 'asc' } }),
    website,
  };
}

export type CampaignAssetLoaders = ReturnType<typeof createCampaignAssetLoaders>;

/** What a request gives the campaign-asset folder: the campaigns' loaders and the assets'. */
export type CampaignAssetContext = SubgraphContext<CampaignLoaders & CampaignAssetLoaders>;
