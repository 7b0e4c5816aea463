import { buildSubgraphSchema, type SubgraphContext } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { CampaignAssetResolver } from './campaign-asset/campaign-asset.resolver.js';
import { CampaignJobResolver, CampaignJobsResolver } from './campaign-job/campaign-job.resolver.js';
import { campaignReference } from './campaign/campaign.reference.js';
import { CampaignResolver } from './campaign/campaign.resolver.js';
import { IcpResolver } from './icp/icp.resolver.js';
import type { CampaignLoaders } from './loaders.js';
import { websiteReference } from './website/website.reference.js';
import { WebsiteResolver } from './website/website.resolver.js';

/** The campaign subgraph's schema. `container` supplies the resolver instances built in app.ts. */
export function buildCampaignSchema(container: ContainerType) {
  return buildSubgraphSchema<SubgraphContext<CampaignLoaders>>({
    resolvers: [CampaignResolver, WebsiteResolver, CampaignAssetResolver, CampaignJobResolver, CampaignJobsResolver, IcpResolver],
    container,
    referenceResolvers: { ...campaignReference, ...websiteReference },
  });
}
