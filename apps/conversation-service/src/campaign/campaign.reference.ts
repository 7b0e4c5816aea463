import type { SubgraphContext } from '@gtm/runtime';
import type { ConversationLoaders } from '../loaders.js';
import type { CampaignReference } from './campaign.type.js';

/**
 * Resolves `Campaign` references without a query: the key is all this subgraph knows of a
 * campaign, and `conversations` is tenant-scoped, so another tenant's campaign id simply has none.
 */
export const campaignReference = {
  Campaign: {
    __resolveReference: (reference: { id?: unknown }, _context: SubgraphContext<ConversationLoaders>): CampaignReference => ({ id: String(reference.id) }),
  },
};
