import { createEntityLoader, createGroupLoader, isUuid, type EntityManager } from '@gtm/runtime';
import DataLoader from 'dataloader';
import { CampaignCorrection } from './campaign-asset/campaign-asset.entity.js';
import { CampaignAssetRepository, type AssetRecord } from './campaign-asset/campaign-asset.repository.js';
import { CampaignJob } from './campaign-job/campaign-job.entity.js';
import { Campaign } from './campaign/campaign.entity.js';

/** The request's DataLoaders; `repository` reads the assets (default: one with the default options). */
export function createCampaignLoaders(em: EntityManager, repository: CampaignAssetRepository = new CampaignAssetRepository()) {
  return {
    campaignById: createEntityLoader(em, Campaign),
    // Keys are normalised website URLs, not UUIDs; an empty one cannot match a stored campaign.
    // Ordered like the `campaigns` connection so both lists agree on "newest first", ties included.
    campaignsByWebsiteUrl: createGroupLoader(em, Campaign, 'websiteUrl', {
      isValidKey: (key) => key.length > 0,
      orderBy: { createdAt: 'desc', id: 'desc' },
    }),
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
    campaignJobById: createEntityLoader(em, CampaignJob),
    jobsByCampaign: createGroupLoader(em, CampaignJob, 'campaignId', { orderBy: { createdAt: 'desc', id: 'desc' } }),
  };
}

export type CampaignLoaders = ReturnType<typeof createCampaignLoaders>;
