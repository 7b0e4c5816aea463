import type { FilterQuery } from '@mikro-orm/core';
import {
  containsPattern,
  domainOf,
  forbidden,
  normalizeWebsiteUrl,
  websiteAddressRefusal,
  type FetchAllowlist,
  notFound,
  paginate,
  parseInput,
  type ConnectionArgs,
} from '@gtm/runtime';
import { z } from 'zod';
import { Campaign } from './campaign.entity.js';
import type { CampaignContext } from './campaign.loaders.js';
import type { CampaignFilter, CreateCampaignInput } from './campaign.input.js';

const maximumNameLength = 200;

const nameSchema = z.string().trim().min(1, 'must not be empty').max(maximumNameLength, `must be at most ${maximumNameLength} characters`);

const createCampaignSchema = z.object({
  websiteUrl: z.string().max(2048, 'must be at most 2048 characters'),
  // A blank optional name means "no name given", so it falls back to the domain like an omitted one.
  name: z
    .string()
    .trim()
    .max(maximumNameLength, `must be at most ${maximumNameLength} characters`)
    .nullish()
    .transform((value) => (value ? value : null)),
  userContext: z
    .string()
    .trim()
    .max(5_000, 'must be at most 5000 characters')
    .nullish()
    .transform((value) => (value ? value : null)),
});

export interface CampaignServiceOptions {
  /** Private hosts the content service may fetch (`CONTENT_FETCH_ALLOWLIST`), so accepted as websites. */
  websiteAllowlist: FetchAllowlist;
}

export class CampaignService {
  constructor(private readonly options: CampaignServiceOptions) {}

  async get(context: CampaignContext, id: string): Promise<Campaign | null> {
    return context.loaders.campaignById.load(id);
  }

  async list(context: CampaignContext, filter: CampaignFilter | undefined, args: ConnectionArgs) {
    const where: FilterQuery<Campaign>[] = [];
    if (filter?.websiteUrl) where.push({ websiteUrl: normalizeWebsiteUrl(filter.websiteUrl, 'filter.websiteUrl') });
    if (filter?.search?.trim()) where.push({ name: { $ilike: containsPattern(filter.search.trim()) } });
    return paginate(context.em, Campaign, where.length > 0 ? { $and: where } : {}, args);
  }

  /** The caller's campaigns for one website, newest first; batched across every website of a request. */
  async listForWebsite(context: CampaignContext, websiteUrl: string): Promise<Campaign[]> {
    return context.loaders.campaignsByWebsiteUrl.load(websiteUrl);
  }

  async create(context: CampaignContext, input: CreateCampaignInput): Promise<Campaign> {
    const fields = parseInput(createCampaignSchema, input);
    const websiteUrl = normalizeWebsiteUrl(fields.websiteUrl);
    // Analysis would refuse this website on every generation: say so now, in analysis's words.
    const refusal = websiteAddressRefusal(new URL(websiteUrl), this.options.websiteAllowlist);
    if (refusal) throw forbidden(refusal, { url: websiteUrl, field: 'websiteUrl' });
    const campaign = context.em.create(Campaign, {
      tenantId: context.caller.tenantId,
      name: fields.name ?? domainOf(websiteUrl),
      websiteUrl,
      userContext: fields.userContext,
    });
    await context.em.persist(campaign).flush();
    return campaign;
  }

  async rename(context: CampaignContext, id: string, name: string): Promise<Campaign> {
    const fields = parseInput(z.object({ name: nameSchema }), { name });
    const campaign = await this.get(context, id);
    if (!campaign) throw notFound('Campaign', id);
    campaign.name = fields.name;
    await context.em.flush();
    return campaign;
  }
}
