import { createEntityLoader, createGroupLoader, type EntityManager } from '@gtm/runtime';
import { Campaign } from './campaign/campaign.entity.js';

export function createCampaignLoaders(em: EntityManager) {
  return {
    campaignById: createEntityLoader(em, Campaign),
    // Keys are normalised website URLs, not UUIDs; an empty one cannot match a stored campaign.
    // Ordered like the `campaigns` connection so both lists agree on "newest first", ties included.
    campaignsByWebsiteUrl: createGroupLoader(em, Campaign, 'websiteUrl', {
      isValidKey: (key) => key.length > 0,
      orderBy: { createdAt: 'desc', id: 'desc' },
    }),
  };
}

export type CampaignLoaders = ReturnType<typeof createCampaignLoaders>;
