// Enrichment end to end, through the gateway: rows of the real Florida dealer register and of the
// contractor list, a fake Serper that ranks directories and namesakes first, every company's site
// served locally, content-service analysing them with the job's delegated token, and a fake OpenAI
// that writes from the passages it is given (or, for one dealer, quotes something the site never said).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  answerFromSchema,
  leadSiteFixture,
  startCompanySites,
  startFakeOpenAiServer,
  startFakeSerperServer,
  type CompanySitesServer,
  type FakeLlmReply,
  type FakeLlmRequest,
  type FakeLlmServer,
  type FakeSearchServer,
  type FixtureSite,
  type LeadCompany,
  type LeadSiteFixture,
} from '@gtm/testing';
import { parse } from 'csv-parse/sync';
import { startNorthwindSite } from './campaign-fixtures.js';
import { startStack, type Stack } from './stack.js';

const readCsv = (name: string) => parse(readFileSync(new URL(`../../fixtures/leads/${name}`, import.meta.url)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
const dealers = readCsv('florida-dealers-10k.csv').slice(0, 8);
const contractor = readCsv('contractors-8k.csv').find((row) => row['name'] === 'JN ELECTRIC LLC')!;

const dealerCompany = (row: Record<string, string>): LeadCompany => ({
  name: row['DEALER NAME']!,
  address: row['LOCATION ADDRESS']!,
  city: row['LOCATION CITY']!,
  state: row['STATE']!,
  zip: row['LOC ZIP']!,
  phone: row['PHONE']!,
  key: row['LIC NUMBER']!,
});
const contractorCompany: LeadCompany = {
  name: contractor['name']!,
  address: contractor['street']!,
  city: contractor['city']!,
  state: contractor['state']!,
  zip: contractor['zip']!,
  phone: contractor['phone']!,
  key: contractor['domain']!,
  trade: 'generators and electrical work',
};

/** A dealer row as a client sends it: the fields enrichment reads, and the other columns verbatim. */
const dealerRecord = (row: Record<string, string>) => ({
  companyName: row['DEALER NAME'],
  address: row['LOCATION ADDRESS'],
  city: row['LOCATION CITY'],
  state: row['STATE'],
  postalCode: row['LOC ZIP'],
  phone: row['PHONE'],
  email: row['EMAIL'] || null,
  fields: { COUNTY: row['COUNTY'], 'LIC TYPE': row['LIC TYPE'], 'LIC NUMBER': row['LIC NUMBER'] },
});
const contractorRecord = {
  companyName: contractor['name'],
  website: contractor['website'],
  phone: contractor['phone'],
  address: contractor['street'],
  city: contractor['city'],
  state: contractor['state'],
  postalCode: contractor['zip'],
  fields: { ICP_Tier: contractor['ICP_Tier'], OEMs_Certified: contractor['OEMs_Certified'] },
};

let stack: Stack;
let sites: CompanySitesServer;
let serper: FakeSearchServer;
let openAi: FakeLlmServer;
let seller: FixtureSite;
const fixtures = new Map<string, LeadSiteFixture>();

/** The passages a personalisation prompt carries: `[n] url — heading` then the text. */
function passagesIn(prompt: string): Array<{ url: string; text: string }> {
  const section = prompt.split(/Passages from [^\n]*:\n/)[1] ?? '';
  return section
    .split(/\n\n(?=\[\d+\] )/)
    .map((block) => /^\[\d+\] (\S+) — [^\n]*\n([\s\S]*)$/.exec(block))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ url: match[1]!, text: match[2]! }));
}

/** A model that writes from what it is given: a sentence of the company's passages, the signals' score. */
function respond(request: FakeLlmRequest): FakeLlmReply {
  const task = String(request.body?.response_format?.json_schema?.name ?? '');
  if (task.includes('personalization')) {
    const passages = passagesIn(request.prompt);
    const passage = passages.find((candidate) => /family owned/i.test(candidate.text)) ?? passages[0]!;
    const sentences = passage.text.split(/(?<=[.!?])\s+|\n+/);
    const sentence = sentences.find((candidate) => /family owned/i.test(candidate)) ?? sentences[0]!;
    const greet = /Greet: (\w+)/.exec(request.prompt)?.[1] ?? 'there';
    // One dealer's answer quotes what its site never said: it must not be kept.
    const quote = request.prompt.includes('J D SANDERS') ? 'We have sold more cars than anyone in the state of Florida.' : sentence;
    return {
      json: {
        subject: 'Forty years in the family business',
        iceBreaker: `Hi ${greet}, I read on your site that "${quote}" Keeping a dealership in the family that long is rare. I would like to show you how we help dealers like you.`,
        hotButtonTopic: 'Family ownership',
        quotes: [{ quote, pageUrl: passage.url }],
      },
    };
  }
  if (task.includes('qualification')) {
    const score = Number(/A rule-based score would be (\d+)/.exec(request.prompt)?.[1] ?? 50);
    return { json: { score, reasoning: `Scored ${score} on the measured signals: industry, place, people and reachability.`, confidence: 0.8, signals: ['Measured signals'] } };
  }
  return answerFromSchema(request);
}

const recordFields = `id position status input website domain websiteSource websiteConfidence
  websiteEvidence { query provider skipped candidates { url accepted matched reason } }
  contacts { name title email phone linkedinUrl source seniority }
  personalization { subject iceBreaker hotButtonTopic provider extractive confidence }
  qualification { score tier reasoning confidence signals provider basis }
  sources { url quote } steps { step status note costUsd } costUsd failureReason`;

async function finishedJob(jobId: string) {
  for (let waited = 0; waited < 180_000; waited += 100) {
    const read = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { id status total completed failed message costUsd } }`, { id: jobId });
    const job = read.data?.['enrichmentJob'];
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job?.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${jobId} did not finish`);
}

async function recordsOf(jobId: string): Promise<any[]> {
  const read = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { records(first: 12) { edges { node { ${recordFields} } } } } }`, { id: jobId });
  expect(read.errors).toBeUndefined();
  return read.data!['enrichmentJob'].records.edges.map((edge: { node: unknown }) => edge.node);
}

/** A campaign on the Northwind site whose targeting is set to the given industries, places and titles. */
async function campaignTargeting(name: string, industries: string[], geographies: string[], jobTitles: string[]): Promise<string> {
  const created = await stack.gql(`mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, { input: { websiteUrl: seller.origin, name } });
  expect(created.errors).toBeUndefined();
  const id = created.data!['createCampaign'].id;
  expect((await stack.gql(`mutation ($id: ID!) { generateAsset(campaignId: $id, kind: TARGET_PERSONA) { id } }`, { id })).errors).toBeUndefined();
  const correct = `mutation ($input: CorrectAssetInput!) { correctAsset(input: $input) { id } }`;
  for (const [kind, fieldPath, value] of [
    ['TARGET_COMPANY', 'firmographics.industries', industries],
    ['TARGET_COMPANY', 'firmographics.geographies', geographies],
    // The generated keywords describe the seller's own buyers; this targeting is the industries alone.
    ['TARGET_COMPANY', 'firmographics.keywords', []],
    ['TARGET_PERSONA', 'jobTitles', jobTitles],
  ] as const) {
    const result = await stack.gql(correct, { input: { campaignId: id, kind, scope: 'FIELD', fieldPath, value } });
    expect(result.errors).toBeUndefined();
  }
  return id;
}

beforeAll(async () => {
  sites = await startCompanySites();
  dealers.forEach((row, index) => {
    const fixture = leadSiteFixture(dealerCompany(row), { origin: sites.origin, namesake: index === 1, hasWebsite: index !== 2, team: index !== 3 });
    fixtures.set(row['DEALER NAME']!, fixture);
    sites.add(fixture.sites);
  });
  const contractorFixture = leadSiteFixture(contractorCompany, { origin: sites.origin });
  fixtures.set(contractorCompany.name, contractorFixture);
  sites.add(contractorFixture.sites);
  serper = await startFakeSerperServer({ documents: [...fixtures.values()].flatMap((fixture) => fixture.documents), apiKey: 'serper-key' });
  openAi = await startFakeOpenAiServer({ respond, apiKey: 'openai-key' });
  seller = await startNorthwindSite();
  const allowlist = [...sites.allowlist(), seller.host].join(',');
  stack = await startStack({
    resolveHost: async (hostname) => (hostname === '127.0.0.1' ? [{ address: '127.0.0.1', family: 4 }] : sites.resolveHost(hostname)),
    subgraphEnvironment: {
      content: { CONTENT_FETCH_ALLOWLIST: allowlist },
      enrichment: {
        CONTENT_FETCH_ALLOWLIST: allowlist,
        SERPER_API_KEY: 'serper-key',
        SERPER_BASE_URL: serper.url,
        LLM_PROVIDERS: 'openai,offline',
        OPENAI_API_KEY: 'openai-key',
        OPENAI_BASE_URL: `${openAi.url}/v1`,
        OPENAI_MODEL: 'gpt-5-mini',
        LLM_MAX_RETRIES: '0',
        // Redis outlives the test: an answer cached by an earlier run would cost nothing.
        LLM_CACHE_TTL_SECONDS: '0',
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await Promise.all([sites?.close(), serper?.close(), openAi?.close(), seller?.close()]);
});

describe('enriching the dealer register against a campaign for Florida car dealers', () => {
  let jobId: string;
  let records: any[];
  let campaignId: string;

  beforeAll(async () => {
    campaignId = await campaignTargeting('Florida dealers', ['Used car dealers'], ['Florida'], ['Owner', 'General Manager']);
    // The first dealer twice: its site is analysed once for the job.
    const rows = [...dealers.map(dealerRecord), contractorRecord, dealerRecord(dealers[0]!)];
    const created = await stack.gql(`mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id status total campaign { id name } } }`, {
      input: { name: 'florida-dealers.csv', records: rows, campaignId },
    });
    expect(created.errors).toBeUndefined();
    expect(created.data!['createEnrichmentJob']).toMatchObject({ status: 'QUEUED', total: rows.length, campaign: { id: campaignId, name: 'Florida dealers' } });
    jobId = created.data!['createEnrichmentJob'].id;
    const job = await finishedJob(jobId);
    expect(job.status).toBe('SUCCEEDED');
    records = await recordsOf(jobId);
  }, 180_000);

  const recordOf = (name: string) => records.find((record) => record.input.companyName === name)!;

  it('finds and confirms each dealer’s own website behind directory listings and a namesake', () => {
    for (const [index, row] of dealers.entries()) {
      const record = recordOf(row['DEALER NAME']!);
      const fixture = fixtures.get(row['DEALER NAME']!)!;
      if (index === 2) {
        expect(record).toMatchObject({ status: 'FAILED', website: null, failureReason: expect.stringMatching(/found no site that is clearly the company's/) });
        continue;
      }
      expect(record).toMatchObject({ website: sites.origin(fixture.host!), websiteSource: 'SEARCH' });
      expect(record.websiteConfidence).toBeGreaterThanOrEqual(0.8);
      expect(record.websiteEvidence.skipped).toEqual(expect.arrayContaining(['yelp.com', 'facebook.com']));
    }
    const namesake = recordOf(dealers[1]!['DEALER NAME']!).websiteEvidence.candidates[0];
    expect(namesake).toMatchObject({ accepted: false, reason: expect.stringMatching(/namesake/) });
  });

  it('searches for a contractor whose listed website is a dealer aggregator page', () => {
    const record = recordOf(contractor['name']!);
    expect(record.input.website).toBe('https://jnelectricllc.generacdealers.com/');
    expect(record).toMatchObject({ website: sites.origin(fixtures.get(contractor['name']!)!.host!), websiteSource: 'SEARCH' });
    expect(record.steps[0].note).toMatch(/^jnelectricllc\.generacdealers\.com is a directory or social site/);
  });

  it('finds the owner on the team page, first, with the page they were read from', () => {
    const record = recordOf(dealers[0]!['DEALER NAME']!);
    const owner = fixtures.get(dealers[0]!['DEALER NAME']!)!.owner!;
    expect(record.contacts[0]).toEqual({ name: owner.name, title: 'Owner', email: owner.email, phone: null, linkedinUrl: owner.linkedinUrl, source: `${record.website}/about`, seniority: 'OWNER' });
    expect(record.contacts.map((contact: { title: string }) => contact.title)).toEqual(['Owner', 'General Manager', 'Finance Manager']);
    const withoutTeam = recordOf(dealers[3]!['DEALER NAME']!);
    expect(withoutTeam.status).toBe('PARTIAL');
    expect(withoutTeam.steps.find((step: { step: string }) => step.step === 'CONTACTS')).toMatchObject({ status: 'FAILED', note: expect.stringMatching(/names nobody with a role/) });
  });

  it('writes openers from the dealer’s own words, quotes checked against the crawled site', () => {
    const record = recordOf(dealers[0]!['DEALER NAME']!);
    expect(record.personalization).toMatchObject({ provider: 'openai', extractive: false, subject: 'Forty years in the family business', hotButtonTopic: 'Family ownership' });
    expect(record.personalization.iceBreaker).toMatch(/^Hi \w+, I read on your site that "[^"]*family owned[^"]*"/i);
    expect(record.sources).toHaveLength(1);
    expect(record.sources[0].url.startsWith(record.website)).toBe(true);
    // The quote is on the page the source names, word for word.
    const page = fixtures.get(dealers[0]!['DEALER NAME']!)!.sites.at(-1)!.pages[new URL(record.sources[0].url).pathname]!;
    expect(page.replace(/&amp;/g, '&').replace(/<[^>]+>/g, '')).toContain(record.sources[0].quote.replace(/\.$/, ''));

    const invented = recordOf(dealers[1]!['DEALER NAME']!);
    expect(invented.personalization).toBeNull();
    expect(invented.status).toBe('PARTIAL');
    expect(invented.steps.find((step: { step: string }) => step.step === 'PERSONALIZATION')).toMatchObject({ status: 'FAILED', note: expect.stringMatching(/quoted nothing found on .*; it was not kept/) });
  });

  it('qualifies Florida dealers high against the campaign, the New Hampshire contractor low', () => {
    const dealer = recordOf(dealers[0]!['DEALER NAME']!);
    expect(dealer.qualification).toMatchObject({ provider: 'openai', basis: 'CAMPAIGN' });
    expect(['A', 'B']).toContain(dealer.qualification.tier);
    const enrichedContractor = recordOf(contractor['name']!);
    expect(['C', 'D']).toContain(enrichedContractor.qualification.tier);
    expect(enrichedContractor.qualification.score).toBeLessThan(dealer.qualification.score);
  });

  it('records what each record cost, and the job’s sum', async () => {
    // The dealer is listed twice. A search at Serper's default price and two model calls at
    // gpt-5-mini's: a record that finds an answer the other one already paid for reads it back at
    // no cost, so which of the two records paid what depends on timing.
    const [listed, repeated] = records.filter((record) => record.input.companyName === dealers[0]!['DEALER NAME']);
    const [paid, reused] = [listed.costUsd, repeated.costUsd].toSorted((left: number, right: number) => right - left);
    expect(paid).toBeGreaterThan(0.001);
    expect(paid).toBeLessThan(0.02);
    expect(reused).toBeLessThanOrEqual(paid);
    const read = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { costUsd } }`, { id: jobId });
    const sum = records.reduce((total, record) => total + record.costUsd, 0);
    expect(read.data!['enrichmentJob'].costUsd).toBeCloseTo(sum, 6);
  });

  it('analyses each site once per job, and reuses the analyses in the next job', async () => {
    const ownHost = fixtures.get(dealers[0]!['DEALER NAME']!)!.host!;
    const crawledAbout = () => sites.requests.filter((request) => request.host === ownHost && request.path === '/about').length;
    expect(crawledAbout()).toBe(1);

    const outsideFlorida = await campaignTargeting('Dental clinics in California', ['Dental clinics'], ['California'], ['Practice Manager']);
    const created = await stack.gql(`mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`, {
      input: { name: 'florida-dealers-again.csv', records: [dealerRecord(dealers[0]!)], campaignId: outsideFlorida },
    });
    const second = await finishedJob(created.data!['createEnrichmentJob'].id);
    const [again] = await recordsOf(second.id);
    expect(crawledAbout()).toBe(1);
    // The same dealer, measured against another campaign's targeting, falls to C or D.
    expect(['C', 'D']).toContain(again.qualification.tier);
    expect(again.qualification.score).toBeLessThan(recordOf(dealers[0]!['DEALER NAME']!).qualification.score);
  }, 120_000);

  it('lists records by status and pages through them in list order', async () => {
    const failed = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { records(status: [FAILED]) { edges { node { position status } } } } }`, { id: jobId });
    expect(failed.data!['enrichmentJob'].records.edges).toEqual([{ node: { position: 2, status: 'FAILED' } }]);
    const positions: number[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await stack.gql(`query ($id: ID!, $after: String) { enrichmentJob(id: $id) { records(first: 3, after: $after) { edges { node { position } } pageInfo { hasNextPage endCursor } } } }`, { id: jobId, after });
      const connection = page.data!['enrichmentJob'].records;
      positions.push(...connection.edges.map((edge: { node: { position: number } }) => edge.node.position));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(positions).toEqual(records.map((record) => record.position));
  });
});
