import type { SubgraphContext } from '@gtm/runtime';
import type { EnrichmentLoaders } from '../loaders.js';
import type { CampaignTargetingReference } from './campaign.type.js';

/**
 * The gateway enters with a campaign's key and, for `enrichmentPlan`, the targeting it requires
 * (resolved by campaign-service for the caller's tenant): the representation is all the plan needs.
 */
export const campaignReference = {
  Campaign: {
    __resolveReference: (reference: Record<string, unknown>, _context: SubgraphContext<EnrichmentLoaders>): CampaignTargetingReference => reference as unknown as CampaignTargetingReference,
  },
};
