import { readFile } from 'node:fs/promises';
import type { Database, Logger } from '@gtm/runtime';
import { parse } from 'csv-parse/sync';
import {
  DataSource,
  DataSourceEstimateBasis,
  DataSourceOrigin,
  DataSourcePricingModel,
  type DataSourceAttributeEstimate,
} from './data-source.entity.js';
import { curatedProviders, type CuratedProvider } from './data-source.providers.js';
import {
  dataSourceCategories,
  findCategory,
  isEnrichmentAttribute,
  sortAttributes,
  type DataSourceCategory,
  type EnrichmentAttribute,
} from './data-source.vocabulary.js';

/** One row of the catalog as the seed writes it. */
export type DataSourceRecord = { [Key in keyof DataSource]: DataSource[Key] };

/** The GTM tools list: apps/enrichment-service/seed/, two folders above this file in src and in dist alike. */
export const gtmToolsListUrl = new URL('../../seed/gtm-tools.csv', import.meta.url);

/** One tool of the GTM tools list, cleaned. */
export interface GtmToolsListRow {
  name: string;
  description: string;
  website: string | null;
  categories: DataSourceCategory[];
  notes: string | null;
  recommended: boolean;
}

type Coverage = Partial<Record<EnrichmentAttribute, number>>;

/**
 * What a tool known only by its category in the GTM tools list is assumed to return, and at what
 * list price. Deliberately modest: such a tool competes with researched providers only where
 * nothing better covers an attribute. Tools that act on data instead of supplying it (CRMs,
 * outreach, email infrastructure, orchestration) cover nothing and have no per-record price.
 *
 * | category             | attributes (coverage)                                                    | USD / record |
 * |----------------------|--------------------------------------------------------------------------|--------------|
 * | Account Data         | company.domain .7, industry .6, employeeCount .6, location .6, description .5 | 0.05    |
 * | Persona Data         | person.title .6, seniority .5, linkedinUrl .6                              | 0.10         |
 * | Contact Verification | person.email .5, emailVerified .4                                          | 0.05         |
 * | Buying Signals       | signals.news .2 (a signal tool that names no signal is assumed to surface events) | 0.05  |
 * | Web Scraping         | company.description .5, signals.news .2                                    | 0.01         |
 * | the other categories | none                                                                       | none         |
 *
 * Every attribute so estimated has quality `categoryDefaultQuality`, and the source is marked
 * `CATEGORY_DEFAULTS`.
 */
export const categoryDefaults: Record<DataSourceCategory, { coverage: Coverage; costPerRecordUsd: number | null }> = {
  'Account Data': {
    coverage: { 'company.domain': 0.7, 'company.industry': 0.6, 'company.employeeCount': 0.6, 'company.location': 0.6, 'company.description': 0.5 },
    costPerRecordUsd: 0.05,
  },
  'Persona Data': { coverage: { 'person.title': 0.6, 'person.seniority': 0.5, 'person.linkedinUrl': 0.6 }, costPerRecordUsd: 0.1 },
  'Contact Verification': { coverage: { 'person.email': 0.5, 'person.emailVerified': 0.4 }, costPerRecordUsd: 0.05 },
  'Buying Signals': { coverage: { 'signals.news': 0.2 }, costPerRecordUsd: 0.05 },
  'Web Scraping': { coverage: { 'company.description': 0.5, 'signals.news': 0.2 }, costPerRecordUsd: 0.01 },
  Orchestration: { coverage: {}, costPerRecordUsd: null },
  CRM: { coverage: {}, costPerRecordUsd: null },
  'Outreach (Email)': { coverage: {}, costPerRecordUsd: null },
  'Outreach (LinkedIn)': { coverage: {}, costPerRecordUsd: null },
  'Email Infrastructure': { coverage: {}, costPerRecordUsd: null },
};

/** Accuracy assumed for attributes estimated from a category: a coin flip better than nothing. */
export const categoryDefaultQuality = 0.5;

/**
 * Words in a category-only tool's description or notes that name what it returns, added to its
 * category's defaults (only for tools in a data-supplying category).
 */
export const descriptionHints: { pattern: RegExp; attribute: EnrichmentAttribute; coverage: number }[] = [
  { pattern: /tech(nology)? stack/i, attribute: 'company.technologies', coverage: 0.5 },
  { pattern: /job openings|hiring/i, attribute: 'signals.hiring', coverage: 0.4 },
  { pattern: /fundraising|funding/i, attribute: 'company.funding', coverage: 0.4 },
  { pattern: /\bnews\b|\brss\b/i, attribute: 'signals.news', coverage: 0.4 },
  { pattern: /intent/i, attribute: 'signals.intent', coverage: 0.3 },
  { pattern: /work emails?/i, attribute: 'person.email', coverage: 0.5 },
  { pattern: /phone/i, attribute: 'person.phone', coverage: 0.3 },
  { pattern: /mobile/i, attribute: 'person.mobile', coverage: 0.3 },
  { pattern: /linkedin/i, attribute: 'person.linkedinUrl', coverage: 0.5 },
  { pattern: /engaged with|engagement/i, attribute: 'signals.socialEngagement', coverage: 0.3 },
];

/**
 * Websites of the GTM tools list that are not the tool's own, for tools not described by hand
 * (those carry the right one in data-source.providers.ts). Keyed by slug.
 */
export const gtmToolsListWebsiteCorrections: Record<string, { website: string | null; note: string }> = {
  'hacker-news': { website: 'https://news.ycombinator.com', note: 'The GTM tools list gives hacker-news.news, which is not Hacker News.' },
  'influencer-club': { website: 'https://influencers.club', note: 'The GTM tools list gives influencerclub.asia; the provider is influencers.club.' },
  'rss-feeds': { website: null, note: 'RSS is a format with no single vendor; the list’s rssfeeds.co.il is left out.' },
};

/** `Apollo.io` → `apollo-io`. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `Smartlead.ai`, `https://www.browserbase.com/` → `https://smartlead.ai`, `https://browserbase.com`; blank → null. */
export function normalizeProviderWebsite(raw: string | null | undefined): string | null {
  const text = raw?.trim();
  if (!text) return null;
  const url = new URL(/^https?:\/\//i.test(text) ? text : `https://${text}`);
  const host = url.hostname.toLowerCase().replace(/^www\./, '');
  const path = url.pathname.replace(/\/+$/, '');
  return `https://${host}${path}`;
}

function cleanText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/\s+:\s+/g, ': ')
    .trim();
}

/** Parses the GTM tools list; an unknown category fails, naming the line, rather than being dropped. */
export function parseGtmToolsList(csvText: string): GtmToolsListRow[] {
  const records = parse(csvText, { columns: true, bom: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  return records.map((record, index) => {
    // The notes column carries its curator's name ("Phil's Notes"): found by its ending.
    const notesColumn = Object.keys(record).find((column) => /notes$/i.test(column));
    const categories = (record['Category'] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
      .map((name) => {
        const category = findCategory(name);
        if (!category) throw new Error(`gtm-tools.csv record ${index + 1}: unknown category "${name}"; known: ${dataSourceCategories.join(', ')}`);
        return category;
      });
    const name = cleanText(record['Tool Name'] ?? '');
    if (!name) throw new Error(`gtm-tools.csv record ${index + 1}: no tool name`);
    if (categories.length === 0) throw new Error(`gtm-tools.csv record ${index + 1} (${name}): no category`);
    const notes = notesColumn ? cleanText(record[notesColumn] ?? '') : '';
    return {
      name,
      description: cleanText(record['Descriptions'] ?? ''),
      website: normalizeProviderWebsite(record['Website']),
      categories,
      notes: notes || null,
      recommended: /^true$/i.test(record['Recommended'] ?? ''),
    };
  });
}

function distinct<Item>(items: Iterable<Item>): Item[] {
  return [...new Set(items)];
}

function attributeEstimates(coverage: Coverage, quality: (attribute: EnrichmentAttribute) => number): DataSourceAttributeEstimate[] {
  return sortAttributes(Object.keys(coverage) as EnrichmentAttribute[]).map((attribute) => ({ attribute, coverage: coverage[attribute]!, quality: quality(attribute) }));
}

function listNotes(rows: GtmToolsListRow[]): string[] {
  return distinct(rows.flatMap((row) => (row.notes ? [`GTM tools list: “${row.notes}”`] : [])));
}

function fromCuratedProvider(provider: CuratedProvider, rows: GtmToolsListRow[]): DataSourceRecord {
  const categories = distinct([...provider.categories, ...rows.flatMap((row) => row.categories)]);
  return {
    slug: provider.slug ?? slugify(provider.name),
    name: provider.name,
    website: normalizeProviderWebsite(provider.website),
    category: categories[0]!,
    categories,
    description: provider.description,
    attributes: attributeEstimates(provider.coverage, (attribute) => provider.attributeQuality?.[attribute] ?? provider.quality),
    costPerRecordUsd: provider.costPerRecordUsd,
    chargedOnlyWhenFound: provider.chargedOnlyWhenFound,
    quality: provider.quality,
    apiAvailable: provider.apiAvailable,
    pricingModel: provider.pricingModel,
    gdprFriendly: provider.gdprFriendly,
    available: provider.available ?? true,
    estimateBasis: DataSourceEstimateBasis.PROVIDER_RESEARCH,
    recommended: rows.some((row) => row.recommended),
    origins: rows.length > 0 ? [DataSourceOrigin.GTM_TOOLS_LIST, DataSourceOrigin.CURATED] : [DataSourceOrigin.CURATED],
    costBasis: provider.costBasis,
    notes: [provider.notes, ...listNotes(rows)].filter(Boolean).join(' ') || null,
  };
}

function fromGtmToolsListOnly(slug: string, rows: GtmToolsListRow[]): DataSourceRecord {
  const categories = distinct(rows.flatMap((row) => row.categories));
  const coverage: Coverage = {};
  const raise = (attribute: EnrichmentAttribute, value: number) => {
    coverage[attribute] = Math.max(coverage[attribute] ?? 0, value);
  };
  for (const category of categories) {
    for (const [attribute, value] of Object.entries(categoryDefaults[category].coverage)) raise(attribute as EnrichmentAttribute, value);
  }
  const suppliesData = Object.keys(coverage).length > 0;
  if (suppliesData) {
    const text = rows.map((row) => `${row.description} ${row.notes ?? ''}`).join(' ');
    for (const hint of descriptionHints) if (hint.pattern.test(text)) raise(hint.attribute, hint.coverage);
  }
  const prices = categories.map((category) => categoryDefaults[category].costPerRecordUsd).filter((price): price is number => price !== null);
  const correction = gtmToolsListWebsiteCorrections[slug];
  return {
    slug,
    name: rows[0]!.name,
    website: correction ? correction.website : (rows.find((row) => row.website)?.website ?? null),
    category: categories[0]!,
    categories,
    description: distinct(rows.map((row) => row.description).filter(Boolean)).join(' '),
    attributes: attributeEstimates(coverage, () => categoryDefaultQuality),
    costPerRecordUsd: suppliesData ? Math.max(...prices) : null,
    chargedOnlyWhenFound: false,
    quality: suppliesData ? categoryDefaultQuality : null,
    // The list is of tools that Clay integrates with, which it does through their APIs.
    apiAvailable: true,
    pricingModel: DataSourcePricingModel.UNKNOWN,
    gdprFriendly: false,
    available: true,
    estimateBasis: DataSourceEstimateBasis.CATEGORY_DEFAULTS,
    recommended: rows.some((row) => row.recommended),
    origins: [DataSourceOrigin.GTM_TOOLS_LIST],
    costBasis: suppliesData ? `Not researched: the default price of its category (${categories.join(', ')}).` : null,
    notes: [...listNotes(rows), correction?.note].filter(Boolean).join(' ') || null,
  };
}

function isFraction(value: number | null): boolean {
  return value === null || (Number.isFinite(value) && value >= 0 && value <= 1);
}

function checkRecord(record: DataSourceRecord): void {
  const problems = [
    !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(record.slug) && 'slug is not kebab-case',
    !isFraction(record.quality) && 'quality is not within 0..1',
    record.costPerRecordUsd !== null && !(record.costPerRecordUsd >= 0) && 'cost is negative',
    record.attributes.length > 0 && (record.costPerRecordUsd === null || record.quality === null) && 'supplies data without a price or quality',
    ...record.attributes.flatMap((estimate) => [
      !isEnrichmentAttribute(estimate.attribute) && `unknown attribute ${estimate.attribute}`,
      (!isFraction(estimate.coverage) || !isFraction(estimate.quality)) && `${estimate.attribute} is not within 0..1`,
    ]),
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`data source ${record.slug}: ${problems.join('; ')}`);
}

/**
 * The whole catalog: the providers described by hand, each merged with its rows of the GTM tools
 * list (by slug or alias; categories, notes and the recommended flag join in), then every other
 * tool of the list with its category's defaults. Sorted by slug; fails on an invalid figure or a
 * slug used twice, so that a bad edit stops the start instead of reaching a plan.
 */
export function buildDataSourceCatalog(csvText: string, providers: readonly CuratedProvider[] = curatedProviders): DataSourceRecord[] {
  const rowsBySlug = new Map<string, GtmToolsListRow[]>();
  for (const row of parseGtmToolsList(csvText)) {
    const slug = slugify(row.name);
    rowsBySlug.set(slug, [...(rowsBySlug.get(slug) ?? []), row]);
  }
  const records: DataSourceRecord[] = [];
  for (const provider of providers) {
    const slugs = distinct([provider.slug ?? slugify(provider.name), slugify(provider.name), ...(provider.aliases ?? []).map(slugify)]);
    const rows = slugs.flatMap((slug) => rowsBySlug.get(slug) ?? []);
    for (const slug of slugs) rowsBySlug.delete(slug);
    records.push(fromCuratedProvider(provider, rows));
  }
  for (const [slug, rows] of rowsBySlug) records.push(fromGtmToolsListOnly(slug, rows));

  const seen = new Set<string>();
  for (const record of records) {
    if (seen.has(record.slug)) throw new Error(`data source ${record.slug} is described twice`);
    seen.add(record.slug);
    checkRecord(record);
  }
  return records.toSorted((first, second) => (first.slug < second.slug ? -1 : 1));
}

/** The catalog from the seed files that ship with the code. */
export async function loadDataSourceCatalog(): Promise<DataSourceRecord[]> {
  return buildDataSourceCatalog(await readFile(gtmToolsListUrl, 'utf8'));
}

/**
 * The seed step, run at every start after the migrations: makes the `data_source` table equal to
 * the seed files, in one transaction (rows upserted by slug, rows no longer in the seed deleted).
 * The catalog is not tenant data (decision 0015), so it is written through the query builder,
 * which neither the tenant filter nor the flush guard applies to.
 */
export async function seedDataSourceCatalog(database: Database, logger: Logger, records?: DataSourceRecord[]): Promise<void> {
  const catalog = records ?? (await loadDataSourceCatalog());
  await database.orm.em.fork().transactional(async (em) => {
    // Replicas starting together take turns instead of interleaving their upserts and deletes.
    await em.execute(`select pg_advisory_xact_lock(hashtext('enrichment.data_source'))`);
    await em.createQueryBuilder(DataSource).insert(catalog).onConflict('slug').merge().execute();
    await em
      .createQueryBuilder(DataSource)
      .delete({ slug: { $nin: catalog.map((record) => record.slug) } })
      .execute();
  });
  logger.info({ dataSources: catalog.length }, 'data-source catalog seeded');
}
