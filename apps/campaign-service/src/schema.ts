import { buildSubgraphSchema, type SubgraphContext } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { campaignReference } from './campaign/campaign.reference.js';
import { CampaignResolver } from './campaign/campaign.resolver.js';
import type { CampaignLoaders } from './loaders.js';
import { websiteReference } from './website/website.reference.js';
import { WebsiteResolver } from './website/website.resolver.js';

/** The campaign subgraph's schema. `container` supplies the resolver instances built in app.ts. */
export function buildCampaignSchema(container: ContainerType) {
  return buildSubgraphSchema<SubgraphContext<CampaignLoaders>>({
    resolvers: [CampaignResolver, WebsiteResolver],
    container,
    referenceResolvers: { ...campaignReference, ...websiteReference },
  });
}
