import { createEntityLoader, createGroupLoader, type EntityManager, type SubgraphContext } from '@gtm/runtime';
import { Campaign } from './campaign.entity.js';

/** A request's loaders of campaigns. */
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

/** What a request gives the campaign folder. */
export type CampaignContext = SubgraphContext<CampaignLoaders>;
