import { callerTokenHeader } from '@gtm/caller';
import { forwardedRequestId } from '@gtm/runtime';
import { z } from 'zod';
import type { CampaignTargeting } from './campaign-targeting.js';

export interface CampaignClientOptions {
  /** campaign-service's GraphQL endpoint (`CAMPAIGN_SERVICE_URL`). */
  url: string;
  /** Default: 10 000 ms. */
  timeoutMs?: number;
}

/** campaign-service could not be asked, or answered something that is not its API. */
export class CampaignServiceError extends Error {
  override readonly name = 'CampaignServiceError';
  readonly isRetryable = true;
}

const list = z.array(z.string()).nullish().transform((value) => value ?? []);
const campaignSchema = z.object({
  id: z.string(),
  name: z.string(),
  productOverview: z.object({ companyName: z.string(), description: z.string(), painPoints: list, useCases: list, differentiators: list }).nullish(),
  targetCompany: z
    .object({
      name: z.string(),
      description: z.string(),
      firmographics: z.object({ industries: list, geographies: list, employeeRange: z.string().nullish(), keywords: list }),
      disqualifiers: list,
      buyingSignals: z.array(z.object({ title: z.string() })).nullish(),
    })
    .nullish(),
  targetPersona: z.object({ name: z.string(), jobTitles: list, seniority: list, departments: list, goals: list }).nullish(),
});

const answerSchema = z.object({
  data: z.object({ campaign: z.unknown().nullish() }).nullish(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});

const campaignQuery = `query EnrichmentCampaignTargeting($id: ID!) {
  campaign(id: $id) {
    id name
    productOverview { companyName description painPoints useCases differentiators }
    targetCompany { name description firmographics { industries geographies employeeRange keywords } disqualifiers buyingSignals { title } }
    targetPersona { name jobTitles seniority departments goals }
  }
}`;

/**
 * campaign-service's API as enrichment reads it: a campaign's product and targeting, with the
 * caller's own token (so another tenant's campaign is simply not found). Asked once, when a job
 * is created; null when the caller has no such campaign.
 */
export class CampaignClient {
  constructor(private readonly options: CampaignClientOptions) {}

  async targeting(callerToken: string | undefined, campaignId: string): Promise<CampaignTargeting | null> {
    if (!callerToken) throw new CampaignServiceError('no caller token to forward to campaign-service');
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [callerTokenHeader]: callerToken, ...forwardedRequestId() },
        body: JSON.stringify({ query: campaignQuery, variables: { id: campaignId } }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new CampaignServiceError(`campaign-service did not answer: ${(error as Error).message}`, { cause: error });
    }
    const parsed = answerSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new CampaignServiceError(`campaign-service answered ${response.status} with something other than a GraphQL response`);
    if (parsed.data.errors?.length) throw new CampaignServiceError(`campaign-service refused the campaign lookup: ${parsed.data.errors[0]!.message}`);
    const campaign = parsed.data.data?.campaign;
    if (campaign === null || campaign === undefined) return null;
    const read = campaignSchema.safeParse(campaign);
    if (!read.success) throw new CampaignServiceError(`campaign-service answered a campaign without a valid ${read.error.issues[0]!.path.join('.')}`);
    const { productOverview, targetCompany, targetPersona } = read.data;
    return {
      id: read.data.id,
      name: read.data.name,
      seller: {
        companyName: productOverview?.companyName ?? null,
        description: productOverview?.description ?? null,
        painPoints: productOverview?.painPoints ?? [],
        useCases: productOverview?.useCases ?? [],
        differentiators: productOverview?.differentiators ?? [],
      },
      targetCompany: targetCompany
        ? {
            name: targetCompany.name,
            description: targetCompany.description,
            industries: targetCompany.firmographics.industries,
            geographies: targetCompany.firmographics.geographies,
            employeeRange: targetCompany.firmographics.employeeRange ?? null,
            keywords: targetCompany.firmographics.keywords,
            disqualifiers: targetCompany.disqualifiers,
            buyingSignals: (targetCompany.buyingSignals ?? []).map((signal) => signal.title),
          }
        : null,
      targetPersona: targetPersona ?? null,
    };
  }
}
