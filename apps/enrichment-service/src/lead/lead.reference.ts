import type { SubgraphContext } from '@gtm/runtime';
import type { EnrichmentLoaders } from '../loaders.js';
import type { LeadReference } from './lead.type.js';

/**
 * Resolves `Lead` references without a query: the key is all this subgraph knows of a lead, and
 * its records are tenant-scoped, so another tenant's lead id simply has no enrichment.
 */
export const leadReference = {
  Lead: {
    __resolveReference: (reference: { id?: unknown }, _context: SubgraphContext<EnrichmentLoaders>): LeadReference => ({ id: String(reference.id) }),
  },
};
