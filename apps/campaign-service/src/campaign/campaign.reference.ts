import type { SubgraphContext } from '@gtm/runtime';
import type { CampaignLoaders } from '../loaders.js';

/** Resolves `Campaign` references from other subgraphs, batched: 100 references, one query. */
export const campaignReference = {
  Campaign: {
    __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<CampaignLoaders>) => context.loaders.campaignById.load(String(reference.id)),
  },
};
