import { Arg, Ctx, Directive, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { CampaignType } from '../campaign/campaign.type.js';
import type { CampaignAssetContext } from '../campaign-asset/campaign-asset.loaders.js';
import type { IcpService } from './icp.service.js';
import { IcpType } from './icp.type.js';

@Resolver(() => IcpType)
export class IcpResolver {
  constructor(private readonly icpService: IcpService) {}

  @Query(() => IcpType, {
    nullable: true,
    description:
      'Legacy: the consolidated ICP of your newest campaign for this website, assembled from its assets; a campaign is created, and missing assets generated, when needed. ' +
      'Prefer Campaign.targetCompany and Campaign.targetPersona.',
  })
  @Directive('@tag(name: "llm")')
  icp(@Arg('websiteUrl') websiteUrl: string, @Ctx() context: CampaignAssetContext) {
    return this.icpService.icp(context, websiteUrl);
  }

  @FieldResolver(() => CampaignType, { description: 'The campaign whose assets it is assembled from.' })
  campaign(@Root() icp: IcpType, @Ctx() context: CampaignAssetContext) {
    return context.loaders.campaignById.load(icp.campaignId);
  }
}
