import { buildSubgraphSchema } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { CampaignAssetResolver } from './campaign-asset/campaign-asset.resolver.js';
import { CampaignJobResolver, CampaignJobsResolver } from './campaign-job/campaign-job.resolver.js';
import { campaignReference } from './campaign/campaign.reference.js';
import { CampaignResolver } from './campaign/campaign.resolver.js';
import { WebsiteCampaignsResolver } from './campaign/website-campaigns.resolver.js';
import { IcpResolver } from './icp/icp.resolver.js';
import type { RequestContext } from './loaders.js';
import { websiteReference } from './website/website.reference.js';

/** The campaign subgraph's schema. `container` supplies the resolver instances built in app.ts. */
export function buildCampaignSchema(container: ContainerType) {
  return buildSubgraphSchema<RequestContext>({
    resolvers: [CampaignResolver, WebsiteCampaignsResolver, CampaignAssetResolver, CampaignJobResolver, CampaignJobsResolver, IcpResolver],
    container,
    referenceResolvers: { ...campaignReference, ...websiteReference },
  });
}
