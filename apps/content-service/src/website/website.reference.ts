import type { SubgraphContext } from '@gtm/runtime';
import type { ContentLoaders } from '../loaders.js';
import type { WebsiteService } from './website.service.js';

/**
 * Resolves `Website` references from other subgraphs, batched: 100 references, one query. A site
 * the tenant has not analysed resolves to an unanalysed website rather than null.
 */
export function createWebsiteReference(websiteService: WebsiteService) {
  return {
    Website: {
      __resolveReference: (reference: { url?: unknown }, context: SubgraphContext<ContentLoaders>) => websiteService.resolve(context, reference.url),
    },
  };
}
