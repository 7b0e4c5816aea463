import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { AssetKind } from '../assets/index.js';
import type { Campaign } from '../campaign/campaign.entity.js';
import { CampaignType } from '../campaign/campaign.type.js';
import { EmailSequenceType, PositioningType, ProductOverviewType, TargetCompanyType, TargetPersonaType } from './asset-content.type.js';
import { CorrectAssetInput } from './campaign-asset.input.js';
import type { CampaignAssetContext } from './campaign-asset.loaders.js';
import { assetStatusOf, type CampaignAssetService } from './campaign-asset.service.js';
import { AssetStatusType, CorrectionType } from './campaign-asset.type.js';

@Resolver(() => CampaignType)
export class CampaignAssetResolver {
  constructor(private readonly assetService: CampaignAssetService) {}

  @Mutation(() => CampaignType, {
    description:
      'Generates one asset now, from the website (analysed first if it never was), its prerequisites (missing, stale or weak ones generated first), your userContext and corrections, and returns the campaign. ' +
      'Assets built on it become STALE.',
  })
  @Directive('@tag(name: "llm")')
  generateAsset(
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('kind', () => AssetKind) kind: AssetKind,
    @Arg('instructions', () => String, { nullable: true, description: 'For this generation, e.g. "focus on enterprise banks"; at most 4000 characters. Needs a language model.' })
    instructions: string | null | undefined,
    @Ctx() context: CampaignAssetContext,
  ) {
    return this.assetService.generateAsset(context, campaignId, kind, instructions);
  }

  @Mutation(() => CampaignType, { description: 'Corrects an asset (FIELD, SECTION or GLOBAL); every asset built on it becomes STALE. The history is in Campaign.corrections.' })
  @Directive('@tag(name: "llm")')
  correctAsset(@Arg('input', () => CorrectAssetInput) input: CorrectAssetInput, @Ctx() context: CampaignAssetContext) {
    return this.assetService.correctAsset(context, input);
  }

  @FieldResolver(() => ProductOverviewType, { nullable: true })
  productOverview(@Root() campaign: Campaign, @Ctx() context: CampaignAssetContext) {
    return this.assetService.contentOf(context, campaign.id, AssetKind.PRODUCT_OVERVIEW);
  }

  @FieldResolver(() => TargetCompanyType, { nullable: true })
  targetCompany(@Root() campaign: Campaign, @Ctx() context: CampaignAssetContext) {
    return this.assetService.contentOf(context, campaign.id, AssetKind.TARGET_COMPANY);
  }

  @FieldResolver(() => TargetPersonaType, { nullable: true })
  targetPersona(@Root() campaign: Campaign, @Ctx() context: CampaignAssetContext) {
    return this.assetService.contentOf(context, campaign.id, AssetKind.TARGET_PERSONA);
  }

  @FieldResolver(() => PositioningType, { nullable: true })
  positioning(@Root() campaign: Campaign, @Ctx() context: CampaignAssetContext) {
    return this.assetService.contentOf(context, campaign.id, AssetKind.POSITIONING);
  }

  @FieldResolver(() => EmailSequenceType, { nullable: true })
  emailSequence(@Root() campaign: Campaign, @Ctx() context: CampaignAssetContext) {
    return this.assetService.contentOf(context, campaign.id, AssetKind.EMAIL_SEQUENCE);
  }

  @FieldResolver(() => [AssetStatusType], { description: 'The five assets, in build order, MISSING where never built.' })
  async assets(@Root() campaign: Campaign, @Ctx() context: CampaignAssetContext) {
    const records = await this.assetService.assetsOf(context, campaign.id);
    return records.map((record) => assetStatusOf(record, this.assetService.weakConfidence));
  }

  @FieldResolver(() => [CorrectionType], { description: 'Your corrections, oldest first.' })
  corrections(@Root() campaign: Campaign, @Ctx() context: CampaignAssetContext) {
    return context.loaders.correctionsByCampaign.load(campaign.id);
  }
}
