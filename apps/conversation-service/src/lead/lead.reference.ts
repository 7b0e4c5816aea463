import type { SubgraphContext } from '@gtm/runtime';
import type { ConversationLoaders } from '../loaders.js';
import type { LeadReference } from './lead.type.js';

/**
 * Resolves `Lead` references without a query: the key is all this subgraph knows of a lead, and
 * `conversations` is tenant-scoped, so another tenant's lead id simply has none.
 */
export const leadReference = {
  Lead: {
    __resolveReference: (reference: { id?: unknown }, _context: SubgraphContext<ConversationLoaders>): LeadReference => ({ id: String(reference.id) }),
  },
};
