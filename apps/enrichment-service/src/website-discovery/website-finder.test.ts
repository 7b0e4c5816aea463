// The WEBSITE step on rows of the real Florida dealer register: a fake Serper ranks directory
// listings and a namesake above each dealer's own site, served locally, and the finder must
// confirm the right one on the page itself, fetched through the SSRF-safe fetcher.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jobEntities } from '@gtm/jobs';
import { createDatabase, createLogger, createSafeFetcher, type Database, type SafeFetcher } from '@gtm/runtime';
import {
  createTestDatabase,
  leadSiteFixture,
  startCompanySites,
  startFakeSerperServer,
  type CompanySitesServer,
  type FakeSearchServer,
  type LeadCompany,
  type LeadSiteFixture,
  type TestDatabase,
} from '@gtm/testing';
import { parse } from 'csv-parse/sync';
import { randomUUID } from 'node:crypto';
import { EnrichmentJob } from '../enrichment-job/enrichment-job.entity.js';
import { EnrichmentRecord } from '../enrichment-record/enrichment-record.entity.js';
import { migrations } from '../migrations/index.js';
import { createSerperSearch } from '../web-search/serper.search.js';
import { createWebSearch } from '../web-search/web-search.js';
import { SearchCache } from './search-cache.js';
import { WebsiteFinder, type WebsiteQuestion } from './website-finder.js';

const dealers = (parse(readFileSync(new URL('../../../../fixtures/leads/florida-dealers-10k.csv', import.meta.url)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>).slice(0, 12);
const companyOf = (row: Record<string, string>): LeadCompany => ({
  name: row['DEALER NAME']!,
  address: row['LOCATION ADDRESS']!,
  city: row['LOCATION CITY']!,
  state: row['STATE']!,
  zip: row['LOC ZIP']!,
  phone: row['PHONE']!,
  key: row['LIC NUMBER']!,
});
const questionOf = (row: Record<string, string>, overrides: Partial<WebsiteQuestion> = {}): WebsiteQuestion => ({
  name: row['DEALER NAME']!,
  phone: row['PHONE']!,
  address: row['LOCATION ADDRESS']!,
  city: row['LOCATION CITY']!,
  region: row['STATE']!,
  postalCode: row['LOC ZIP']!,
  website: row['Dealer Website URL'] || null,
  email: row['EMAIL'] || null,
  ...overrides,
});

let testDatabase: TestDatabase;
let database: Database;
let sites: CompanySitesServer;
let serper: FakeSearchServer;
let fetcher: SafeFetcher;
let finder: WebsiteFinder;
const fixtures: LeadSiteFixture[] = [];
const tenantId = randomUUID();
const unlimited = { tenantId, canSpend: () => true };

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = await createDatabase({ url: testDatabase.url, schema: 'enrichment', entities: [...jobEntities, EnrichmentJob, EnrichmentRecord], migrations, logger: createLogger({ service: 'test', level: 'silent' }), poolMax: 2 });
  await database.migrate();
  sites = await startCompanySites();
  // Dealer 0 and 3..: a site with a team; 1: a namesake in Orlando ranked first; 2: no website at all.
  dealers.forEach((row, index) => {
    const fixture = leadSiteFixture(companyOf(row), { origin: sites.origin, namesake: index === 1, hasWebsite: index !== 2 });
    fixtures.push(fixture);
    sites.add(fixture.sites);
  });
  serper = await startFakeSerperServer({ documents: fixtures.flatMap((fixture) => fixture.documents), apiKey: 'serper-test-key' });
  fetcher = createSafeFetcher({ allowlist: sites.allowlist(), resolveHost: (hostname) => sites.resolveHost(hostname), timeoutMs: 5_000 });
  finder = new WebsiteFinder({ search: createWebSearch([createSerperSearch({ apiKey: 'serper-test-key', baseUrl: serper.url, costPerQueryUsd: 0.001 })]), fetcher, cache: new SearchCache(database, 3_600) });
});

afterAll(async () => {
  await fetcher?.close();
  await Promise.all([sites?.close(), serper?.close()]);
  await database?.close();
  await testDatabase?.drop();
});

describe('finding a dealer’s website', () => {
  it('passes over Yelp and Facebook and confirms the dealer’s own site by its name, phone and address', async () => {
    const finding = await finder.find(questionOf(dealers[0]!), unlimited);
    expect(finding).toMatchObject({ found: true, source: 'SEARCH', domain: fixtures[0]!.host, costUsd: 0.001 });
    if (!finding.found) throw new Error('not found');
    expect(finding.website).toBe(sites.origin(fixtures[0]!.host!));
    expect(finding.confidence).toBeGreaterThanOrEqual(0.95);
    expect(finding.evidence).toMatchObject({ query: `${dealers[0]!['DEALER NAME']} ${dealers[0]!['LOCATION CITY']} FL`, provider: 'serper' });
    expect(finding.evidence!.skipped).toEqual(expect.arrayContaining(['yelp.com', 'facebook.com']));
    expect(finding.evidence!.candidates).toEqual([{ url: `${sites.origin(fixtures[0]!.host!)}/`, accepted: true, matched: ['name', 'phone', 'place', 'domain'], reason: expect.stringMatching(/name, phone, place/) }]);
    // Nothing was fetched from the directories.
    expect(sites.requests.every((request) => !/yelp|facebook/.test(request.host))).toBe(true);
  });

  it('rejects the namesake in another town that ranks first, and takes the dealer’s own site', async () => {
    const finding = await finder.find(questionOf(dealers[1]!), unlimited);
    if (!finding.found) throw new Error(finding.reason);
    expect(finding.domain).toBe(fixtures[1]!.host);
    const [namesake, own] = finding.evidence!.candidates;
    expect(namesake).toMatchObject({ accepted: false, matched: ['name', 'domain'], reason: expect.stringMatching(/namesake/) });
    expect(new URL(namesake!.url).hostname).toMatch(/-of-orlando\.test$/);
    expect(own).toMatchObject({ accepted: true, matched: expect.arrayContaining(['name', 'phone', 'place']) });
  });

  it('fails with a reason a user can act on when the search finds only directories and other companies', async () => {
    const finding = await finder.find(questionOf(dealers[2]!), unlimited);
    expect(finding.found).toBe(false);
    if (finding.found) return;
    // The other Alachua dealers' sites rank for the town; each shows the town but is not this dealer.
    expect(finding.reason).toMatch(/^A web search for "TAYLORS TRUCK CENTER INC ALACHUA FL" found no site that is clearly the company's: .*shows the town but not the company's name.* Add the website to the row if you know it\.$/);
    expect(finding.evidence!.skipped.toSorted()).toEqual(['facebook.com', 'yelp.com']);
    expect(finding.evidence!.candidates.every((candidate) => !candidate.accepted && !candidate.matched.includes('name'))).toBe(true);

    serper.enqueue({ results: fixtures[2]!.documents });
    const onlyDirectories = await finder.find(questionOf(dealers[2]!, { city: 'Alachua County' }), unlimited);
    expect(onlyDirectories).toMatchObject({ found: false, reason: expect.stringMatching(/found only directory and social sites \(yelp\.com, facebook\.com\)\. Add the website to the row if you know it\.$/) });
  });

  it('searches when the row’s website is a directory page, and takes a given website as it is', async () => {
    const viaFacebook = await finder.find(questionOf(dealers[3]!, { website: 'https://www.facebook.com/somedealer' }), unlimited);
    expect(viaFacebook).toMatchObject({ found: true, source: 'SEARCH', domain: fixtures[3]!.host, note: 'facebook.com is a directory or social site, not the company\'s own website.' });
    const searchesBefore = serper.requests.length;
    const given = await finder.find(questionOf(dealers[4]!, { website: 'WWW.Example-Dealer.com/' }), unlimited);
    expect(given).toMatchObject({ found: true, source: 'INPUT', website: 'https://www.example-dealer.com', domain: 'example-dealer.com', confidence: 1, costUsd: 0 });
    expect(serper.requests.length).toBe(searchesBefore);
  });

  it('checks a work email’s domain first, through the same address checks, and searches when it cannot be confirmed', async () => {
    const host = fixtures[5]!.host!;
    const searchesBefore = serper.requests.length;
    // The allowlist admits the fixture's own port only: https://<host> (port 443) on the loopback
    // address is refused like any private address, and the search finds the site instead.
    const finding = await finder.find(questionOf(dealers[5]!, { email: `sales@${host}` }), unlimited);
    if (!finding.found) throw new Error(finding.reason);
    expect(finding).toMatchObject({ source: 'SEARCH', domain: host });
    expect(finding.note).toMatch(new RegExp(`^The email's domain ${host.replace('.', '\\.')} is refused \\(.*loopback address 127\\.0\\.0\\.1`));
    expect(serper.requests.length).toBe(searchesBefore + 1);
    // A mailbox provider's domain (att.net, gmail.com) is never taken for the company's.
    const mailbox = await finder.find(questionOf(dealers[5]!, { email: 'jdsrv@att.net' }), unlimited);
    expect(mailbox).toMatchObject({ found: true, source: 'SEARCH', note: null });
  });

  it('reuses a search within the cache’s TTL at no cost', async () => {
    const searchesBefore = serper.requests.length;
    const again = await finder.find(questionOf(dealers[0]!), unlimited);
    expect(again).toMatchObject({ found: true, domain: fixtures[0]!.host, costUsd: 0 });
    expect(serper.requests.length).toBe(searchesBefore);
    // Another tenant's search is its own: nothing a tenant searched is served to another.
    await finder.find(questionOf(dealers[0]!), { ...unlimited, tenantId: randomUUID() });
    expect(serper.requests.length).toBe(searchesBefore + 1);
  });

  it('reads a company’s site once for the rows that name it again, and once per tenant', async () => {
    const homeRequests = () => sites.requests.filter((request) => request.host === fixtures[0]!.host && request.path === '/').length;
    const before = homeRequests();
    // Another branch of the same dealer, on another row: its search is cached and its page read already.
    const again = await finder.find(questionOf(dealers[0]!), unlimited);
    expect(again).toMatchObject({ found: true, domain: fixtures[0]!.host });
    expect(homeRequests()).toBe(before);
    await finder.find(questionOf(dealers[0]!), { ...unlimited, tenantId: randomUUID() });
    expect(homeRequests()).toBe(before + 1);
  });

  it('refuses a row’s website on a private or metadata address by its spelling, and searches instead', async () => {
    for (const website of ['http://169.254.169.254/latest/meta-data', 'http://localhost:8080', 'http://10.1.2.3']) {
      const finding = await finder.find(questionOf(dealers[0]!, { website }), unlimited);
      expect(finding).toMatchObject({ found: true, source: 'SEARCH', domain: fixtures[0]!.host, note: expect.stringMatching(/^The row's website is refused: .*never fetched\.$/) });
    }
  });

  it('stops before a search the budget cannot pay for', async () => {
    const finding = await finder.find(questionOf(dealers[6]!), { tenantId, canSpend: () => false });
    expect(finding).toMatchObject({ found: false, overBudget: true, costUsd: 0, reason: expect.stringMatching(/would go over the record's budget/) });
  });

  it('rejects candidates it cannot read, and never fetches a private address', async () => {
    serper.enqueue({
      results: [
        { url: 'http://10.0.0.8/', title: `${dealers[7]!['DEALER NAME']}`, snippet: 'intranet' },
        { url: 'http://gone-dealer.test/', title: `${dealers[7]!['DEALER NAME']}`, snippet: 'no longer online' },
      ],
    });
    const finding = await finder.find(questionOf(dealers[7]!), unlimited);
    expect(finding.found).toBe(false);
    if (finding.found) return;
    expect(finding.evidence!.candidates).toEqual([
      { url: 'http://10.0.0.8/', accepted: false, matched: [], reason: expect.stringMatching(/is refused .*private address 10\.0\.0\.8/) },
      { url: 'http://gone-dealer.test/', accepted: false, matched: [], reason: expect.stringMatching(/could not be read .*could not be resolved \(ENOTFOUND\)/) },
    ]);
  });
});
