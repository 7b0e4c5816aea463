import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { badUserInput, definedFields, domainOf, normalizeWebsiteUrl, paginate, parseInput, type ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import type { RankedChunk } from '../chunk/content-search.repository.js';
import type { ContentLoaders } from '../loaders.js';
import type { WebPage } from '../page/web-page.entity.js';
import { Website } from './website.entity.js';
import type { ContextQualityType, WebsiteView } from './website.type.js';

type ContentContext = SubgraphContext<ContentLoaders>;

/** What an analysis stores about a website. An omitted field stays as it is; null clears it. */
export interface WebsiteFields {
  url: string;
  title?: string | null;
  description?: string | null;
  summary?: string | null;
  analyzedAt?: Date | null;
}

// Keeps `undefined` (leave as is) apart from `null` and blank text (clear), unlike `nullish()` alone.
const optionalText = (maximum: number) =>
  z
    .string()
    .trim()
    .max(maximum)
    .nullish()
    .transform((value) => (value === undefined ? undefined : value || null));

const websiteFieldsSchema = z.object({
  url: z.string().max(2048),
  title: optionalText(1_000),
  description: optionalText(5_000),
  summary: optionalText(20_000),
  analyzedAt: z.date().nullish(),
});

/** The longest search query taken; longer ones are a mistake, not a question. */
const maximumQueryLength = 500;

export class WebsiteService {
  /** The tenant's stored website for a URL in any spelling, or null; a malformed URL is BAD_USER_INPUT. */
  async get(context: ContentContext, url: string): Promise<Website | null> {
    return this.findStored(context, normalizeWebsiteUrl(url, 'url'));
  }

  async list(context: ContentContext, args: ConnectionArgs) {
    return paginate(context.em, Website, {}, args);
  }

  /**
   * The website behind a federation key or a company's `websiteUrl`. Never null for a well-formed
   * URL: a campaign or company may point at a site this tenant has not analysed yet, and
   * `Campaign.website` is non-null. A malformed URL has no website, so it resolves to null.
   */
  async resolve(context: ContentContext, url: unknown): Promise<WebsiteView | null> {
    if (typeof url !== 'string') return null;
    let normalizedUrl: string;
    try {
      normalizedUrl = normalizeWebsiteUrl(url, 'url');
    } catch {
      return null;
    }
    return (await this.findStored(context, normalizedUrl)) ?? unanalysedWebsite(normalizedUrl);
  }

  /**
   * Creates or updates the tenant's website for `url` (in any spelling) with what an analysis found.
   * Two analyses of one site may race; the loser of the insert re-reads the winner's row and applies
   * its fields over it, so the call never fails on the unique (tenant_id, url) index.
   */
  async upsertWebsite(context: ContentContext, input: WebsiteFields): Promise<Website> {
    const { url: rawUrl, ...changes } = parseInput(websiteFieldsSchema, definedFields(input));
    const url = normalizeWebsiteUrl(rawUrl, 'url');
    const fields = definedFields(changes);
    for (let attempt = 1; ; attempt += 1) {
      const website =
        (await context.em.findOne(Website, { url })) ??
        context.em.create(Website, { tenantId: context.caller.tenantId, url, domain: domainOf(url) });
      context.em.assign(website, fields);
      try {
        await context.em.persist(website).flush();
        context.loaders.websitesByUrl.clear(url);
        return website;
      } catch (error) {
        if (!(error instanceof UniqueConstraintViolationException) || attempt >= 2) throw error;
        context.em.clear();
      }
    }
  }

  async pagesOf(context: ContentContext, website: WebsiteView): Promise<WebPage[]> {
    return website.id ? context.loaders.pagesByWebsite.load(website.id) : [];
  }

  qualityOf(website: WebsiteView): ContextQualityType {
    if (website.qualityLevel === null || website.qualityScore === null) {
      return { level: 'MISSING', score: 0, gaps: ['The website has not been analysed yet: run analyzeWebsite.'] };
    }
    return { level: website.qualityLevel, score: website.qualityScore, gaps: website.qualityGaps };
  }

  /** Ranked passages of an analysed website; batched across websites by the loader. */
  async search(context: ContentContext, website: WebsiteView, query: string, limit: number): Promise<RankedChunk[]> {
    const trimmed = query.trim();
    if (!trimmed) throw badUserInput('Give search words, such as "pricing" or "who it is for".', 'query');
    if (trimmed.length > maximumQueryLength) throw badUserInput(`A search query is at most ${maximumQueryLength} characters.`, 'query');
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw badUserInput('limit must be between 1 and 50.', 'limit');
    if (!website.id) return [];
    return context.loaders.chunkSearches.load({ websiteId: website.id, query: trimmed, limit });
  }

  private async findStored(context: ContentContext, normalizedUrl: string): Promise<Website | null> {
    const [website] = await context.loaders.websitesByUrl.load(normalizedUrl);
    return website ?? null;
  }
}

/** A website known only by its URL: nothing has been analysed for this tenant yet. */
export function unanalysedWebsite(normalizedUrl: string): WebsiteView {
  return {
    url: normalizedUrl,
    domain: domainOf(normalizedUrl),
    title: null,
    description: null,
    summary: null,
    extractiveSummary: null,
    summaryProvider: null,
    analyzedAt: null,
    qualityScore: null,
    qualityLevel: null,
    qualityGaps: [],
    source: null,
    facts: null,
  };
}
