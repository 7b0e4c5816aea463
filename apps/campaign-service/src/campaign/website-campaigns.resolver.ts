import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { WebsiteReference } from '../website/website.type.js';
import type { CampaignContext } from './campaign.loaders.js';
import type { CampaignService } from './campaign.service.js';
import { CampaignType } from './campaign.type.js';

/** `Website.campaigns`: the campaigns this service adds to content-service's `Website`. */
@Resolver(() => WebsiteReference)
export class WebsiteCampaignsResolver {
  constructor(private readonly campaignService: CampaignService) {}

  @FieldResolver(() => [CampaignType], { nullable: true, description: 'Your campaigns for this website, newest first. Null only while the campaign service is unavailable.' })
  campaigns(@Root() website: WebsiteReference, @Ctx() context: CampaignContext) {
    return this.campaignService.listForWebsite(context, website.url);
  }
}
