import type { CampaignContext } from './campaign.loaders.js';

/** Resolves `Campaign` references from other subgraphs, batched: 100 references, one query. */
export const campaignReference = {
  Campaign: {
    __resolveReference: (reference: { id?: unknown }, context: CampaignContext) => context.loaders.campaignById.load(String(reference.id)),
  },
};
