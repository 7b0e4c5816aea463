import { isUuid, type SubgraphContext } from '@gtm/runtime';
import type { CrmLoaders } from '../loaders.js';
import { LeadList } from './lead-list.entity.js';

/**
 * `LeadList` references from other subgraphs (enrichment and conversations read
 * a list's leads): the tenant filter of the request's EntityManager answers null for another
 * tenant's list, as for an unknown one.
 */
export const leadListReference = {
  LeadList: {
    __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<CrmLoaders>) => {
      const id = String(reference.id);
      return isUuid(id) ? context.em.findOne(LeadList, { id }) : null;
    },
  },
};
