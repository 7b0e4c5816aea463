import type { SubgraphContext } from '@gtm/runtime';
import type { CrmLoaders } from '../loaders.js';

/** Resolves `Company` references from other subgraphs, batched: 100 references, one query. */
export const companyReference = {
  Company: {
    __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<CrmLoaders>) => context.loaders.companyById.load(String(reference.id)),
  },
};
