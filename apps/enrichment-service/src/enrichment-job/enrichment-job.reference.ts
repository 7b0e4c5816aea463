import type { SubgraphContext } from '@gtm/runtime';
import type { EnrichmentLoaders } from '../loaders.js';

/** Resolves `EnrichmentJob` references from other subgraphs, batched: 100 references, one query. */
export const enrichmentJobReference = {
  EnrichmentJob: {
    __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<EnrichmentLoaders>) =>
      context.loaders.enrichmentJobById.load(String(reference.id)),
  },
};
