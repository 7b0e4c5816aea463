import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { DataSource } from './data-source.entity.js';
import { seedDataSourceCatalog } from './data-source.seed.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const tenantA = createTestCaller();
const tenantB = createTestCaller();

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

const sourceFields = `slug name website category categories description attributes { attribute coverage quality } costPerRecordUsd chargedOnlyWhenFound
  quality apiAvailable pricingModel gdprFriendly available estimateBasis recommended origins costBasis notes`;

interface SourceView {
  slug: string;
  name: string;
  website: string | null;
  category: string;
  categories: string[];
  attributes: { attribute: string; coverage: number; quality: number }[];
  costPerRecordUsd: number | null;
  quality: number | null;
  estimateBasis: string;
  origins: string[];
  recommended: boolean;
  available: boolean;
  apiAvailable: boolean;
  gdprFriendly: boolean;
  notes: string | null;
}

async function dataSources(category?: string): Promise<SourceView[]> {
  const result = await subgraph.call(tenantA, `query ($category: String) { dataSources(category: $category) { ${sourceFields} } }`, { category });
  expect(result.errors).toBeUndefined();
  return result.data!['dataSources'];
}

const coverageOf = (source: SourceView | undefined, attribute: string) => source?.attributes.find((estimate) => estimate.attribute === attribute)?.coverage;

describe('data-source catalog', () => {
  it('is seeded at start with the curated providers and every tool of the GTM tools list, merged', async () => {
    const sources = await dataSources();
    const bySlug = new Map(sources.map((source) => [source.slug, source]));
    // 39 distinct tools in the list (Apollo.io is listed twice) and 20 providers only curated.
    expect(sources).toHaveLength(59);
    expect(sources.map((source) => source.slug)).toEqual([...bySlug.keys()].toSorted());

    const researched = sources.filter((source) => source.estimateBasis === 'PROVIDER_RESEARCH' && source.available && source.attributes.length > 0);
    expect(researched.length).toBeGreaterThanOrEqual(20);
    for (const slug of ['apollo-io', 'zoominfo', 'breeze-intelligence', 'people-data-labs', 'hunter-io', 'lusha', 'cognism', 'builtwith', 'crunchbase', 'clay', 'dropcontact', 'kaspr', 'rocketreach', 'snov-io', 'neverbounce', 'zerobounce', 'wappalyzer', 'bombora', 'g2-buyer-intent', 'coresignal', 'diffbot']) {
      expect(bySlug.get(slug)?.estimateBasis).toBe('PROVIDER_RESEARCH');
    }

    // Apollo.io: two rows of the list (CRM, Account Data) and the curated entry make one source.
    const apollo = bySlug.get('apollo-io')!;
    expect(apollo).toMatchObject({ name: 'Apollo.io', website: 'https://apollo.io', category: 'Account Data', origins: ['GTM_TOOLS_LIST', 'CURATED'], costPerRecordUsd: 0.05 });
    expect(apollo.categories).toEqual(['Account Data', 'Persona Data', 'CRM']);
    expect(coverageOf(apollo, 'person.email')).toBe(0.75);
    expect(apollo.attributes.find((estimate) => estimate.attribute === 'person.email')?.quality).toBe(0.8);

    // From the list, researched: BuiltWith keeps the curator's note and gains the technology estimate.
    expect(bySlug.get('builtwith')).toMatchObject({ origins: ['GTM_TOOLS_LIST', 'CURATED'], notes: expect.stringContaining('Great for finding tech stack') });
    expect(coverageOf(bySlug.get('builtwith'), 'company.technologies')).toBe(0.9);
    expect(bySlug.get('fullenrich')).toMatchObject({ recommended: true, gdprFriendly: true, category: 'Contact Verification' });
    expect(coverageOf(bySlug.get('predictleads'), 'signals.hiring')).toBe(0.75);
    // The list's wrong website is replaced, and the note says what the list had.
    expect(bySlug.get('warmly')).toMatchObject({ website: 'https://warmly.ai', notes: expect.stringContaining('warmlydecor.com') });

    // From the list only: figures from the category table, marked as such.
    expect(bySlug.get('capterra')).toMatchObject({ estimateBasis: 'CATEGORY_DEFAULTS', origins: ['GTM_TOOLS_LIST'], costPerRecordUsd: 0.05, quality: 0.5 });
    expect(coverageOf(bySlug.get('capterra'), 'company.industry')).toBe(0.6);
    expect(bySlug.get('phantombuster')?.attributes.map((estimate) => estimate.attribute)).toEqual(['person.linkedinUrl', 'signals.news']);
    // Tools that do not supply data are listed without attributes, price or quality.
    expect(bySlug.get('attio')).toMatchObject({ category: 'CRM', attributes: [], costPerRecordUsd: null, quality: null, recommended: true });

    expect(bySlug.get('proxycurl')).toMatchObject({ available: false });
    expect(bySlug.get('linkedin-sales-navigator')).toMatchObject({ apiAvailable: false });
  });

  it('filters by category, any of a source’s categories, ignoring case', async () => {
    const verification = await dataSources('contact verification');
    expect(verification.map((source) => source.slug)).toEqual(expect.arrayContaining(['hunter-io', 'neverbounce', 'dropcontact', 'prospeo', 'people-data-labs']));
    expect(verification.every((source) => source.categories.includes('Contact Verification'))).toBe(true);
    expect(verification.map((source) => source.slug)).not.toContain('zoominfo');

    const crm = await dataSources('CRM');
    expect(crm.map((source) => source.slug)).toEqual(['apollo-io', 'attio', 'close', 'hubspot', 'pipedrive', 'salesforce']);
  });

  it('refuses an unknown category with BAD_USER_INPUT naming the known ones', async () => {
    const result = await subgraph.call(tenantA, `{ dataSources(category: "Intent Data") { slug } }`);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'category' } });
    expect(result.errors?.[0]?.message).toMatch(/Unknown data-source category "Intent Data".*Account Data, Persona Data, Contact Verification, Buying Signals/);
  });

  it('reads one source by slug, null when unknown', async () => {
    const found = await subgraph.call(tenantA, `{ dataSource(slug: "neverbounce") { name costPerRecordUsd attributes { attribute } } }`);
    expect(found.data!['dataSource']).toEqual({ name: 'NeverBounce', costPerRecordUsd: 0.008, attributes: [{ attribute: 'person.emailVerified' }] });
    const missing = await subgraph.call(tenantA, `{ dataSource(slug: "nope") { name } }`);
    expect(missing.data!['dataSource']).toBeNull();
  });

  it('is the same catalog for every tenant, read once per request', async () => {
    subgraph.queries.length = 0;
    const result = await subgraph.call(tenantB, `{ all: dataSources { slug } crm: dataSources(category: "CRM") { slug } one: dataSource(slug: "clay") { slug } }`);
    expect(subgraph.queries.filter((sql) => /\bselect\b.*"data_source"/i.test(sql))).toHaveLength(1);
    expect(result.data!['all']).toEqual((await dataSources()).map((source) => ({ slug: source.slug })));
    expect(result.data!['crm']).toHaveLength(6);
    expect(result.data!['one']).toEqual({ slug: 'clay' });
  });

  it('cannot be changed by a flush, whoever the tenant', async () => {
    const em = subgraph.app.database.forkForTenant(tenantA.tenantId);
    const [hunter] = await em.find(DataSource, { slug: 'hunter-io' }, { filters: { tenant: false } });
    hunter!.costPerRecordUsd = 0;
    await em.flush();
    const sources = await dataSources('Contact Verification');
    expect(sources.find((source) => source.slug === 'hunter-io')?.costPerRecordUsd).toBe(0.02);
  });

  it('seeding again updates rows in place and removes the ones the seed no longer has', async () => {
    const connection = subgraph.app.database.orm.em.getConnection();
    await connection.execute(`update enrichment.data_source set cost_per_record_usd = 99 where slug = 'hunter-io'`);
    await connection.execute(
      `insert into enrichment.data_source (slug, name, category, categories, description, api_available, pricing_model, estimate_basis, origins) values ('gone', 'Gone', 'CRM', '{CRM}', 'x', true, 'UNKNOWN', 'CATEGORY_DEFAULTS', '{CURATED}')`,
    );
    await seedDataSourceCatalog(subgraph.app.database, subgraph.app.logger);
    const sources = await dataSources();
    expect(sources).toHaveLength(59);
    expect(sources.find((source) => source.slug === 'hunter-io')?.costPerRecordUsd).toBe(0.02);
    expect(sources.find((source) => source.slug === 'gone')).toBeUndefined();
  });
});
