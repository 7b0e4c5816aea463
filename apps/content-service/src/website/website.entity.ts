import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

export const qualityLevels = ['SUFFICIENT', 'PARTIAL', 'INSUFFICIENT', 'MISSING'] as const;
export type QualityLevel = (typeof qualityLevels)[number];

/** Where an analysis read the pages from. */
export const pageSources = ['DIRECT', 'FIRECRAWL', 'CHROMIUM'] as const;
export type PageSource = (typeof pageSources)[number];

/** What the analysis found besides the text; read whole, never queried by field. */
export interface WebsiteFacts {
  contacts: { emails: string[]; phones: string[]; socialLinks: { network: string; url: string }[] };
  teamMembers: { name: string; title: string; pageUrl: string; email?: string; phone?: string; linkedinUrl?: string }[];
  technologies: { name: string; category: string; evidence: string }[];
  /** Pages the crawl planned but could not read, and why. */
  skippedPages: { url: string; reason: string }[];
}

@Entity({ tableName: 'website' })
export class Website extends TenantScopedEntity {
  /** Normalised (normalizeWebsiteUrl): the federation key, unique per tenant. */
  @Property({ type: 'text' })
  url!: string;

  /** Host without `www.`, lower-case. */
  @Property({ type: 'text' })
  domain!: string;

  @Property({ type: 'text', nullable: true })
  title: string | null = null;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** The model's summary when a provider answered, else the extractive one. */
  @Property({ type: 'text', nullable: true })
  summary: string | null = null;

  /** Built from the site's own sentences, without a model; always present after an analysis. */
  @Property({ type: 'text', nullable: true })
  extractiveSummary: string | null = null;

  /** The LLM provider that wrote `summary` (`offline` when none did). */
  @Property({ type: 'text', nullable: true })
  summaryProvider: string | null = null;

  @Property({ type: 'float', nullable: true })
  qualityScore: number | null = null;

  @Property({ type: 'text', nullable: true })
  qualityLevel: QualityLevel | null = null;

  @Property({ type: 'text[]' })
  qualityGaps: Opt<string[]> = [];

  @Property({ type: 'text', nullable: true })
  source: PageSource | null = null;

  @Property({ type: 'json', nullable: true })
  facts: WebsiteFacts | null = null;

  /** When the last analysis finished; null until a website has been analysed. */
  @Property({ type: 'datetime', nullable: true })
  analyzedAt: Date | null = null;
}
