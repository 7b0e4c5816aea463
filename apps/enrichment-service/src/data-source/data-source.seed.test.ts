import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { DataSourcePricingModel } from './data-source.entity.js';
import type { CuratedProvider } from './data-source.providers.js';
import { buildDataSourceCatalog, gtmToolsListUrl, normalizeProviderWebsite, parseGtmToolsList, slugify } from './data-source.seed.js';

const header = "Tool Name,Descriptions,Website,Category,Phil's Notes,Recommended\n";

const provider = (overrides: Partial<CuratedProvider> = {}): CuratedProvider => ({
  name: 'Example Data',
  website: 'https://example.com',
  categories: ['Account Data'],
  description: 'Example.',
  coverage: { 'company.domain': 0.9 },
  costPerRecordUsd: 0.01,
  chargedOnlyWhenFound: false,
  quality: 0.8,
  apiAvailable: true,
  pricingModel: DataSourcePricingModel.USAGE,
  gdprFriendly: false,
  costBasis: 'Example.',
  ...overrides,
});

describe('GTM tools list', () => {
  it('is the shipped copy of the shared list: 40 rows, cleaned', async () => {
    const rows = parseGtmToolsList(await readFile(gtmToolsListUrl, 'utf8'));
    expect(rows).toHaveLength(40);
    const firecrawl = rows.find((row) => row.name === 'Firecrawl')!;
    // A description spread over two lines in the CSV reads as one sentence.
    expect(firecrawl).toEqual({
      name: 'Firecrawl',
      description: 'Power your AI apps with clean data crawled from any website. It\'s also open source.',
      website: 'https://firecrawl.dev',
      categories: ['Buying Signals', 'Web Scraping'],
      notes: null,
      recommended: true,
    });
    expect(rows.find((row) => row.name === 'Owler')?.description).toBe('Owler: Find company updates, data, and competitors using a domain.');
    expect(rows.find((row) => row.name === 'Icypeas')?.website).toBeNull();
  });

  it('fails on an unknown category, naming the record, instead of dropping the tool', () => {
    expect(() => parseGtmToolsList(`${header}Foo,Bar,foo.com,Intent Data,,\n`)).toThrow(/record 1: unknown category "Intent Data"/);
  });

  it('normalises websites and names', () => {
    expect(normalizeProviderWebsite('Smartlead.ai')).toBe('https://smartlead.ai');
    expect(normalizeProviderWebsite('https://www.browserbase.com/')).toBe('https://browserbase.com');
    expect(normalizeProviderWebsite('  ')).toBeNull();
    expect(slugify('Dealroom.co')).toBe('dealroom-co');
    expect(slugify('HubSpot Breeze Intelligence (Clearbit)')).toBe('hubspot-breeze-intelligence-clearbit');
  });
});

describe('catalog build', () => {
  it('merges a curated provider with its list rows by alias, categories and flags joining', () => {
    const csv = `${header}Clearbit,Company data.,clearbit.com,Account Data,Good one,TRUE\nClearbit,Again.,clearbit.com,Buying Signals,,\n`;
    const catalog = buildDataSourceCatalog(csv, [provider({ name: 'Breeze', slug: 'breeze', aliases: ['Clearbit'], categories: ['Persona Data'] })]);
    expect(catalog).toHaveLength(1);
    expect(catalog[0]).toMatchObject({
      slug: 'breeze',
      categories: ['Persona Data', 'Account Data', 'Buying Signals'],
      category: 'Persona Data',
      recommended: true,
      origins: ['GTM_TOOLS_LIST', 'CURATED'],
      notes: 'GTM tools list: “Good one”',
      estimateBasis: 'PROVIDER_RESEARCH',
    });
  });

  it('gives a list-only tool its category defaults plus what its description names', () => {
    const csv = `${header}Signals Co,Find job openings and news for a company.,signals.co,Buying Signals,,\nPipe,Manage deals.,pipe.com,CRM,,\n`;
    const [pipe, signals] = buildDataSourceCatalog(csv, []);
    expect(signals).toMatchObject({ estimateBasis: 'CATEGORY_DEFAULTS', costPerRecordUsd: 0.05, quality: 0.5, pricingModel: 'UNKNOWN' });
    expect(signals!.attributes).toEqual([
      { attribute: 'signals.hiring', coverage: 0.4, quality: 0.5 },
      { attribute: 'signals.news', coverage: 0.4, quality: 0.5 },
    ]);
    expect(pipe).toMatchObject({ slug: 'pipe', attributes: [], costPerRecordUsd: null, quality: null, costBasis: null });
  });

  it('refuses figures outside 0..1, unknown attributes and a slug used twice', () => {
    expect(() => buildDataSourceCatalog(header, [provider({ coverage: { 'company.domain': 1.5 } })])).toThrow(/example-data: company.domain is not within 0..1/);
    expect(() => buildDataSourceCatalog(header, [provider({ coverage: { 'company.headcount': 0.5 } as never })])).toThrow(/unknown attribute company.headcount/);
    expect(() => buildDataSourceCatalog(header, [provider({ quality: -0.1 })])).toThrow(/quality is not within 0..1/);
    expect(() => buildDataSourceCatalog(header, [provider(), provider({ name: 'Example  Data' })])).toThrow(/example-data is described twice/);
  });
});
