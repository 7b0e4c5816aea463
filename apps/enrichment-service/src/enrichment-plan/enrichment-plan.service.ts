import type { SubgraphContext } from '@gtm/runtime';
import type { DataSource } from '../data-source/data-source.entity.js';
import type { DataSourceService } from '../data-source/data-source.service.js';
import type { EnrichmentLoaders } from '../loaders.js';
import type { CampaignTargetingInput } from './enrichment-plan.input.js';
import { planEnrichment, type EnrichmentPlanResult } from './enrichment-plan.planner.js';
import { campaignTargetingFromRepresentation, parseBudget, parseCampaignTargeting, type CampaignTargeting, type CampaignTargetingRepresentation } from './enrichment-plan.targeting.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

/**
 * The fields `Campaign.enrichmentPlan` needs from campaign-service, for its `@requires` once the
 * Campaign's TargetCompany and TargetPersona types exist (campaign-service's `schema.graphql`).
 */
export const campaignTargetingRequires =
  'targetCompany { firmographics { industries employeeRange revenueRange geographies businessModel fundingStage keywords } buyingSignals { type priority } } targetPersona { jobTitles departments seniority }';

export class EnrichmentPlanService {
  constructor(private readonly dataSourceService: DataSourceService) {}

  /** `Query.enrichmentPlan`: a plan for targeting sent by the client; bad input is BAD_USER_INPUT naming the field. */
  async plan(context: EnrichmentContext, targeting: CampaignTargetingInput, budgetUsdPerRecord: number | null | undefined): Promise<EnrichmentPlanResult<DataSource>> {
    const parsed = parseCampaignTargeting(targeting);
    const budget = parseBudget(budgetUsdPerRecord);
    return this.planFor(context, parsed, budget);
  }

  /**
   * `Campaign.enrichmentPlan(budgetUsdPerRecord)`: a plan for a campaign's own targeting, from the
   * representation the gateway sends with the `@requires` fields (`campaignTargetingRequires`).
   * Null while the campaign has neither a target company nor a target persona. Wiring it is a field
   * resolver on a `Campaign` stub (`@key(fields: "id")`, the required fields `@external`) calling
   * `planForCampaign(context, campaign, budgetUsdPerRecord)`.
   */
  async planForCampaign(
    context: EnrichmentContext,
    representation: CampaignTargetingRepresentation,
    budgetUsdPerRecord: number | null | undefined,
  ): Promise<EnrichmentPlanResult<DataSource> | null> {
    const budget = parseBudget(budgetUsdPerRecord);
    const targeting = campaignTargetingFromRepresentation(representation);
    return targeting ? this.planFor(context, targeting, budget) : null;
  }

  private async planFor(context: EnrichmentContext, targeting: CampaignTargeting, budgetUsdPerRecord: number): Promise<EnrichmentPlanResult<DataSource>> {
    return planEnrichment(targeting, await this.dataSourceService.all(context), { budgetUsdPerRecord });
  }
}
