import type { SubgraphContext } from '@gtm/runtime';
import type { CrmLoaders } from '../loaders.js';

/** Resolves `Lead` references from other subgraphs, batched: 100 references, one query. */
export const leadReference = {
  Lead: {
    __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<CrmLoaders>) => context.loaders.leadById.load(String(reference.id)),
  },
};
