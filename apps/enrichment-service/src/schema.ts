import { buildSubgraphSchema, type SubgraphContext } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { campaignReference } from './campaign/campaign.reference.js';
import { CampaignEnrichmentPlanResolver } from './campaign/campaign.resolver.js';
import { CampaignTargetingReference } from './campaign/campaign.type.js';
import { DataSourceResolver } from './data-source/data-source.resolver.js';
import { enrichmentJobReference } from './enrichment-job/enrichment-job.reference.js';
import { EnrichmentJobResolver } from './enrichment-job/enrichment-job.resolver.js';
import { EnrichmentPlanResolver } from './enrichment-plan/enrichment-plan.resolver.js';
import { EnrichmentRecordResolver } from './enrichment-record/enrichment-record.resolver.js';
import { leadReference } from './lead/lead.reference.js';
import { LeadEnrichmentResolver } from './lead/lead.resolver.js';
import type { EnrichmentLoaders } from './loaders.js';

/** The enrichment subgraph's schema. `container` supplies the resolver instances built in app.ts. */
export function buildEnrichmentSchema(container: ContainerType) {
  return buildSubgraphSchema<SubgraphContext<EnrichmentLoaders>>({
    resolvers: [EnrichmentJobResolver, DataSourceResolver, EnrichmentPlanResolver, CampaignEnrichmentPlanResolver, LeadEnrichmentResolver, EnrichmentRecordResolver],
    container,
    referenceResolvers: { ...enrichmentJobReference, ...campaignReference, ...leadReference },
    // Nothing here returns a Campaign: the gateway enters it by reference to add enrichmentPlan.
    orphanedTypes: [CampaignTargetingReference],
  });
}
