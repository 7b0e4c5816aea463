import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, Float, Query, Resolver } from 'type-graphql';
import type { EnrichmentLoaders } from '../loaders.js';
import { CampaignTargetingInput } from './enrichment-plan.input.js';
import type { EnrichmentPlanService } from './enrichment-plan.service.js';
import { EnrichmentPlanType } from './enrichment-plan.type.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

@Resolver(() => EnrichmentPlanType)
export class EnrichmentPlanResolver {
  constructor(private readonly enrichmentPlanService: EnrichmentPlanService) {}

  @Query(() => EnrichmentPlanType, {
    description: 'Which data sources to run, in which order, to enrich records for this targeting within the budget: for anyone, with or without a campaign.',
  })
  enrichmentPlan(
    @Arg('targeting', () => CampaignTargetingInput) targeting: CampaignTargetingInput,
    @Arg('budgetUsdPerRecord', () => Float, { nullable: true, description: 'Most the plan may cost per record, 0 to 100 USD; default 0.25.' }) budgetUsdPerRecord: number | null | undefined,
    @Ctx() context: EnrichmentContext,
  ) {
    return this.enrichmentPlanService.plan(context, targeting, budgetUsdPerRecord);
  }
}
