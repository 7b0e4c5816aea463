import type { SubgraphContext } from '@gtm/runtime';
import type { CrmLoaders } from '../loaders.js';

/** Resolves `CrmConnection` references, batched; another tenant's id resolves to null. */
export const crmConnectionReference = {
  CrmConnection: {
    __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<CrmLoaders>) => context.loaders.crmConnectionById.load(String(reference.id)),
  },
};
