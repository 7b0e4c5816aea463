import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, Directive, FieldResolver, Float, Resolver, Root } from 'type-graphql';
import { campaignTargetingRequires, type EnrichmentPlanService } from '../enrichment-plan/enrichment-plan.service.js';
import { EnrichmentPlanType } from '../enrichment-plan/enrichment-plan.type.js';
import type { EnrichmentLoaders } from '../loaders.js';
import { CampaignTargetingReference } from './campaign.type.js';

@Resolver(() => CampaignTargetingReference)
export class CampaignEnrichmentPlanResolver {
  constructor(private readonly enrichmentPlanService: EnrichmentPlanService) {}

  @FieldResolver(() => EnrichmentPlanType, {
    nullable: true,
    description: 'Which data sources to run, in which order, to enrich this campaign\'s target companies and people within the budget. Null until the campaign has a target company or persona.',
  })
  @Directive(`@requires(fields: "${campaignTargetingRequires}")`)
  enrichmentPlan(
    @Root() campaign: CampaignTargetingReference,
    @Arg('budgetUsdPerRecord', () => Float, { nullable: true, description: 'Most the plan may cost per record, 0 to 100 USD; default 0.25.' }) budgetUsdPerRecord: number | null | undefined,
    @Ctx() context: SubgraphContext<EnrichmentLoaders>,
  ) {
    return this.enrichmentPlanService.planForCampaign(context, campaign, budgetUsdPerRecord);
  }
}
