import { ConnectionArgs } from '@gtm/runtime';
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { WebsiteReference } from '../website/website.type.js';
import type { Campaign } from './campaign.entity.js';
import type { CampaignContext } from './campaign.loaders.js';
import { CampaignFilter, CreateCampaignInput } from './campaign.input.js';
import type { CampaignService } from './campaign.service.js';
import { CampaignConnection, CampaignType } from './campaign.type.js';

@Resolver(() => CampaignType)
export class CampaignResolver {
  constructor(private readonly campaignService: CampaignService) {}

  @Query(() => CampaignType, { nullable: true, description: 'A campaign of your tenant, or null.' })
  campaign(@Arg('id', () => ID) id: string, @Ctx() context: CampaignContext) {
    return this.campaignService.get(context, id);
  }

  @Query(() => CampaignConnection, { description: 'Campaigns, newest first.' })
  campaigns(@Args(() => ConnectionArgs) args: ConnectionArgs, @Arg('filter', () => CampaignFilter, { nullable: true }) filter: CampaignFilter | undefined, @Ctx() context: CampaignContext) {
    return this.campaignService.list(context, filter, args);
  }

  @Mutation(() => CampaignType)
  createCampaign(@Arg('input', () => CreateCampaignInput) input: CreateCampaignInput, @Ctx() context: CampaignContext) {
    return this.campaignService.create(context, input);
  }

  @Mutation(() => CampaignType, { description: 'Renames a campaign; the name is 1 to 200 characters.' })
  renameCampaign(@Arg('id', () => ID) id: string, @Arg('name', () => String) name: string, @Ctx() context: CampaignContext) {
    return this.campaignService.rename(context, id, name);
  }

  @FieldResolver(() => WebsiteReference, { description: 'The website the campaign is about; content-service resolves the rest of it.' })
  website(@Root() campaign: Campaign): WebsiteReference {
    return { url: campaign.websiteUrl };
  }
}
