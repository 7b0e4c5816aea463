import { z } from 'zod';
import { GraphQLUpstream, UpstreamError } from '@gtm/runtime';

export interface SequenceStep {
  step: number;
  delayDays: number;
  subject: string;
  body: string;
}

/** What replies are grounded in: the campaign's own words and the website passages it cites. */
export interface CampaignGrounding {
  campaignName: string;
  websiteUrl: string;
  companyName: string | null;
  description: string | null;
  keyFeatures: string[];
  pricing: string | null;
  uniqueInsight: string | null;
  valuePropositions: { theme: string; description: string; evidence: string }[];
  differentiators: string[];
  objections: string[];
  /** Website passages the assets cite: `{ url, quote }`. */
  sources: { url: string; quote: string }[];
}

export interface CampaignForEnrollment {
  id: string;
  name: string;
  sequence: SequenceStep[] | null;
  grounding: CampaignGrounding;
}

const stringList = z.array(z.string()).nullish().transform((value) => value ?? []);

const campaignSchema = z.object({
  id: z.string(),
  name: z.string(),
  websiteUrl: z.string(),
  emailSequence: z.object({ emails: z.array(z.object({ step: z.number().int(), delayDays: z.number().int(), subject: z.string(), body: z.string() })) }).nullish(),
  productOverview: z.object({ companyName: z.string(), description: z.string(), keyFeatures: stringList, pricing: z.string() }).nullish(),
  positioning: z
    .object({ uniqueInsight: z.string(), valuePropositions: z.array(z.object({ theme: z.string(), description: z.string(), evidence: z.string() })), differentiators: stringList })
    .nullish(),
  targetPersona: z.object({ objections: stringList }).nullish(),
  assets: z.array(z.object({ sources: z.array(z.object({ url: z.string(), quote: z.string() })) })).nullish(),
});

const campaignQuery = `query ConversationCampaign($id: ID!) {
  campaign(id: $id) {
    id name websiteUrl
    emailSequence { emails { step delayDays subject body } }
    productOverview { companyName description keyFeatures pricing }
    positioning { uniqueInsight valuePropositions { theme description evidence } differentiators }
    targetPersona { objections }
    assets { sources { url quote } }
  }
}`;

const notStated = (value: string | null | undefined) => (!value || /^not stated/i.test(value.trim()) ? null : value.trim());

/** campaign-service's API as enrolment uses it: the sequence to send and what replies stand on. */
export class CampaignClient {
  constructor(private readonly upstream: GraphQLUpstream) {}

  /** The campaign, or null when the caller's tenant has no campaign of that id. */
  async campaign(callerToken: string | undefined, id: string): Promise<CampaignForEnrollment | null> {
    const answer = await this.upstream.post(callerToken, campaignQuery, { id });
    if (answer.errors?.length) throw new UpstreamError('campaign-service', `campaign-service refused the campaign lookup: ${answer.errors[0]!.message}`);
    if (!answer.data?.['campaign']) return null;
    const parsed = campaignSchema.safeParse(answer.data['campaign']);
    if (!parsed.success) throw new UpstreamError('campaign-service', 'campaign-service answered the campaign lookup with something other than a campaign');
    const campaign = parsed.data;
    const sources = new Map<string, { url: string; quote: string }>();
    for (const asset of campaign.assets ?? []) for (const source of asset.sources) if (sources.size < 40) sources.set(source.quote, source);
    return {
      id: campaign.id.toLowerCase(),
      name: campaign.name,
      sequence: campaign.emailSequence?.emails.length ? campaign.emailSequence.emails.toSorted((left, right) => left.step - right.step) : null,
      grounding: {
        campaignName: campaign.name,
        websiteUrl: campaign.websiteUrl,
        companyName: campaign.productOverview?.companyName ?? null,
        description: notStated(campaign.productOverview?.description),
        keyFeatures: campaign.productOverview?.keyFeatures ?? [],
        pricing: notStated(campaign.productOverview?.pricing),
        uniqueInsight: notStated(campaign.positioning?.uniqueInsight),
        valuePropositions: campaign.positioning?.valuePropositions ?? [],
        differentiators: campaign.positioning?.differentiators ?? [],
        objections: campaign.targetPersona?.objections ?? [],
        sources: [...sources.values()],
      },
    };
  }
}
