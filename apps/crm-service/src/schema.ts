import { buildSubgraphSchema, type SubgraphContext } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { companyReference } from './company/company.reference.js';
import { CompanyResolver } from './company/company.resolver.js';
import { crmConnectionReference } from './crm-connection/crm-connection.reference.js';
import { CrmConnectionResolver } from './crm-connection/crm-connection.resolver.js';
import { CrmSyncResolver, LeadCrmRecordsResolver } from './crm-sync/crm-sync.resolver.js';
import type { CrmLoaders } from './loaders.js';
import { LeadImportResolver } from './lead-import/lead-import.resolver.js';
import { leadListReference } from './lead-list/lead-list.reference.js';
import { LeadListResolver } from './lead-list/lead-list.resolver.js';
import { leadReference } from './lead/lead.reference.js';
import { LeadResolver } from './lead/lead.resolver.js';

/** The CRM subgraph's schema. `container` supplies the resolver instances built in app.ts. */
export function buildCrmSchema(container: ContainerType) {
  return buildSubgraphSchema<SubgraphContext<CrmLoaders>>({
    resolvers: [LeadResolver, CompanyResolver, CrmConnectionResolver, CrmSyncResolver, LeadCrmRecordsResolver, LeadImportResolver, LeadListResolver],
    container,
    referenceResolvers: {
      ...leadReference,
      ...companyReference,
      ...crmConnectionReference,
      ...leadListReference,
      LeadImport: {
        __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<CrmLoaders>) =>
          (container.get(LeadImportResolver, undefined as never) as LeadImportResolver).leadImport(String(reference.id), context),
      },
    },
  });
}
