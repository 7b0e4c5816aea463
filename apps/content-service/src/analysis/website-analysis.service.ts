import type { Llm } from '@gtm/llm';
import { type Database, domainOf, type EntityManager, FetchFailure, type Logger, normalizeWebsiteUrl, type SubgraphContext } from '@gtm/runtime';
import type { CrawledSite, SiteCrawler } from '../crawl/site-crawler.js';
import { chunkPages, type ContentChunkDraft } from '../extraction/chunking.js';
import { extractiveSummary } from '../extraction/extractive-summary.js';
import { extractPage, type ExtractedPage } from '../extraction/page-extraction.js';
import { removeRepeatedBlocks } from '../extraction/site-cleaning.js';
import { findSiteFacts } from '../extraction/site-facts.js';
import type { ContentLoaders } from '../loaders.js';
import { WebPage } from '../page/web-page.entity.js';
import { Website, type WebsiteFacts } from '../website/website.entity.js';
import type { AnalysisSingleFlight } from './analysis-single-flight.js';
import { findAnalysedWebsiteRow, storeAnalysis } from './analysis-store.js';
import { assessContextQuality, type ContextQuality } from './context-quality.js';
import { websiteSummaryPrompt, websiteSummaryTask } from './website-summary.task.js';

type ContentContext = SubgraphContext<ContentLoaders>;

export interface WebsiteAnalysisOptions {
  database: Database;
  crawler: SiteCrawler;
  llm: Llm;
  singleFlight: AnalysisSingleFlight;
  logger: Logger;
  /** How long an analysis is reused without `refresh`. */
  ttlMs: number;
  /** Default: the system clock. Tests move it to expire analyses. */
  now?: () => Date;
}

/** Everything an analysis found, before it is stored. */
export interface SiteAnalysis {
  crawled: CrawledSite;
  pages: ExtractedPage[];
  chunks: ContentChunkDraft[];
  quality: ContextQuality;
  facts: WebsiteFacts;
  extractiveSummary: string;
}

/**
 * Turns a URL into a stored, searchable, scored website: crawl, extract, clean, chunk, assess,
 * summarise, store. Analyses are reused for `ttlMs`; concurrent ones for a site share one crawl.
 * A failed crawl stores nothing, so the previous good analysis, if any, stays.
 */
export class WebsiteAnalysisService {
  private readonly now: () => Date;

  constructor(private readonly options: WebsiteAnalysisOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async analyze(context: ContentContext, url: string, request: { refresh: boolean }): Promise<Website> {
    const normalizedUrl = normalizeWebsiteUrl(url, 'url');
    if (!request.refresh) {
      const fresh = await this.findAnalyzedSince(context.em, context.caller.tenantId, normalizedUrl, new Date(this.now().getTime() - this.options.ttlMs));
      if (fresh) return fresh;
    }
    const startedAt = this.now();
    return this.options.singleFlight.run(
      `${context.caller.tenantId}:${normalizedUrl}`,
      () => this.analyzeNow(context, normalizedUrl),
      // Another process's result: read afresh, outside this request's identity map.
      () => this.findAnalyzedSince(this.options.database.forkForTenant(context.caller.tenantId), context.caller.tenantId, normalizedUrl, startedAt),
    );
  }

  /** The pure part: what the crawled pages say. Exposed for the benchmark and tests. */
  static analyzePages(crawled: CrawledSite): SiteAnalysis {
    const extracted = crawled.pages.map((page) => {
      const extractedPage = page.extracted ?? extractPage(page.html, page.url);
      // A reader's metadata (Firecrawl's) comes from the page's real <head>, which its HTML may have lost.
      return { ...extractedPage, kind: page.kind, title: page.metadata?.title ?? extractedPage.title, description: page.metadata?.description ?? extractedPage.description };
    });
    const pages = removeRepeatedBlocks(extracted);
    const chunks = chunkPages(pages);
    const siteFacts = findSiteFacts(pages);
    const totalWords = pages.reduce((sum, page) => sum + page.wordCount, 0);
    const facts: WebsiteFacts = {
      contacts: mergeContacts(pages),
      teamMembers: mergeTeamMembers(pages.flatMap((page) => page.teamMembers.map((member) => ({ ...member, pageUrl: page.url })))),
      technologies: uniqueBy(
        pages.flatMap((page) => page.technologies),
        (technology) => technology.name,
      ),
      skippedPages: crawled.skippedPages,
    };
    return { crawled, pages, chunks, facts, quality: assessContextQuality(siteFacts, totalWords), extractiveSummary: extractiveSummary(pages) };
  }

  private async analyzeNow(context: ContentContext, normalizedUrl: string): Promise<Website> {
    let crawled: CrawledSite;
    try {
      crawled = await this.options.crawler.crawl(normalizedUrl);
    } catch (error) {
      if (error instanceof FetchFailure) throw error.toGraphQLError();
      throw error;
    }
    const analysis = WebsiteAnalysisService.analyzePages(crawled);
    const summary = await this.summarise(context, normalizedUrl, analysis);
    const website = await this.store(context, normalizedUrl, analysis, summary);
    context.loaders.websitesByUrl.clear(normalizedUrl);
    this.options.logger.info(
      { url: normalizedUrl, pages: analysis.pages.length, chunks: analysis.chunks.length, quality: analysis.quality.score, source: crawled.source },
      'website analysed',
    );
    return website;
  }

  /** The model's summary when a provider answers; the extractive one otherwise. Never fails the analysis. */
  private async summarise(context: ContentContext, url: string, analysis: SiteAnalysis): Promise<{ text: string | null; provider: string | null }> {
    if (analysis.chunks.length === 0) return { text: analysis.extractiveSummary || null, provider: null };
    const home = analysis.pages[0]!;
    const summaryContext = {
      url,
      title: home.title,
      description: home.description,
      extractiveSummary: analysis.extractiveSummary,
      passages: analysis.chunks.map((chunk) => ({ pageUrl: chunk.pageUrl, heading: chunk.heading, text: chunk.text })),
    };
    try {
      const result = await this.options.llm.generateObject({
        task: websiteSummaryTask,
        context: summaryContext,
        prompt: websiteSummaryPrompt(summaryContext),
        attribution: { tenantId: context.caller.tenantId, keyId: context.caller.keyId, requestId: context.caller.requestId },
      });
      return { text: result.object.summary || null, provider: result.provider };
    } catch (error) {
      this.options.logger.warn({ err: error, url }, 'no model could summarise the website; keeping the extractive summary');
      return { text: analysis.extractiveSummary || null, provider: 'offline' };
    }
  }

  /**
   * Replaces the website's analysis in one statement: readers see the old one or the new one, never
   * half. The pages just written are handed to this request's loader, so the answer does not read
   * them back.
   */
  private async store(context: ContentContext, url: string, analysis: SiteAnalysis, summary: { text: string | null; provider: string | null }): Promise<Website> {
    const home = analysis.pages[0]!;
    const stored = await storeAnalysis(
      context.em,
      context.caller.tenantId,
      {
        url,
        domain: domainOf(url),
        title: home.title ?? home.openGraph['title'] ?? null,
        description: home.description ?? home.openGraph['description'] ?? null,
        summary: summary.text,
        summaryProvider: summary.provider,
        extractiveSummary: analysis.extractiveSummary || null,
        qualityScore: analysis.quality.score,
        qualityLevel: analysis.quality.level,
        qualityGaps: analysis.quality.gaps,
        source: analysis.crawled.pages.some((page) => page.source === 'CHROMIUM') ? 'CHROMIUM' : analysis.crawled.source,
        facts: analysis.facts,
        analyzedAt: this.now(),
      },
      analysis.pages,
      analysis.chunks.map((chunk) => ({ ...chunk, wordCount: chunk.text.split(/\s+/).filter(Boolean).length })),
      this.now(),
    );
    const website = context.em.map(Website, stored.websiteRow);
    // Plain instances, not managed ones: the answer only reads them, and merging each into the
    // identity map cost more than the rest of the write.
    context.loaders.pagesByWebsite.clear(website.id).prime(
      website.id,
      stored.pages.map((page) => Object.assign(new WebPage(), page)),
    );
    return website;
  }

  private async findAnalyzedSince(em: EntityManager, tenantId: string, url: string, since: Date): Promise<Website | null> {
    const row = await findAnalysedWebsiteRow(em, tenantId, url, since);
    return row ? em.map(Website, row) : null;
  }
}

function uniqueBy<Item>(items: Item[], keyOf: (item: Item) => string): Item[] {
  const seen = new Map<string, Item>();
  for (const item of items) if (!seen.has(keyOf(item))) seen.set(keyOf(item), item);
  return [...seen.values()];
}

/** Each person once (first page that names them), their email, phone and profile from whichever page shows them. */
function mergeTeamMembers(members: WebsiteFacts['teamMembers']): WebsiteFacts['teamMembers'] {
  const byName = new Map<string, WebsiteFacts['teamMembers'][number]>();
  for (const member of members) {
    const known = byName.get(member.name.toLowerCase());
    if (!known) byName.set(member.name.toLowerCase(), { ...member });
    else {
      known.email ??= member.email;
      known.phone ??= member.phone;
      known.linkedinUrl ??= member.linkedinUrl;
    }
  }
  return [...byName.values()];
}

function mergeContacts(pages: ExtractedPage[]): WebsiteFacts['contacts'] {
  return {
    emails: [...new Set(pages.flatMap((page) => page.contacts.emails))],
    phones: [...new Set(pages.flatMap((page) => page.contacts.phones))],
    socialLinks: uniqueBy(
      pages.flatMap((page) => page.contacts.socialLinks),
      (link) => link.url,
    ),
  };
}
