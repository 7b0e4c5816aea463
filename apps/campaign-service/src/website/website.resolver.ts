import type { SubgraphContext } from '@gtm/runtime';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { CampaignService } from '../campaign/campaign.service.js';
import { CampaignType } from '../campaign/campaign.type.js';
import type { CampaignLoaders } from '../loaders.js';
import { WebsiteReference } from './website.type.js';

@Resolver(() => WebsiteReference)
export class WebsiteResolver {
  constructor(private readonly campaignService: CampaignService) {}

  @FieldResolver(() => [CampaignType], { nullable: true, description: 'Your campaigns for this website, newest first. Null only while the campaign service is unavailable.' })
  campaigns(@Root() website: WebsiteReference, @Ctx() context: SubgraphContext<CampaignLoaders>) {
    return this.campaignService.listForWebsite(context, website.url);
  }
}
