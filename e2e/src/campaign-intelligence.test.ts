import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGraphQLWebSocketClient, subscribeForTest, type FixtureSite } from '@gtm/testing';
import { startStack, type Stack } from './stack.js';
import { campaignFields, closedPort, createCampaign, northwindWordsByPath, startNorthwindSite, statusOf, wordsOf, type AssetStatus } from './campaign-fixtures.js';

// Campaign intelligence through the gateway, with no model configured: every asset comes from the
// offline provider (extracted from the website, marked `offline`). The website is the Northwind
// fixture, served locally and analysed by the real content service.

let stack: Stack;
let site: FixtureSite;
let secondSite: FixtureSite;
let unreachablePort: number;
const kinds = ['PRODUCT_OVERVIEW', 'TARGET_COMPANY', 'TARGET_PERSONA', 'POSITIONING', 'EMAIL_SEQUENCE'];

beforeAll(async () => {
  [site, secondSite, unreachablePort] = await Promise.all([startNorthwindSite(), startNorthwindSite(), closedPort()]);
  stack = await startStack({
    subgraphEnvironment: { content: { CONTENT_FETCH_ALLOWLIST: [site.host, secondSite.host, `127.0.0.1:${unreachablePort}`].join(','), CONTENT_FETCH_TIMEOUT_MS: '2000' } },
  });
});

afterAll(async () => {
  await stack?.close();
  await Promise.all([site?.close(), secondSite?.close()]);
});

const gql = (query: string, variables?: Record<string, unknown>) => stack.gql(query, variables);

async function newCampaign(websiteUrl: string, userContext?: string): Promise<string> {
  const created = await gql(createCampaign, { input: { websiteUrl, userContext } });
  expect(created.errors).toBeUndefined();
  return created.data!['createCampaign'].id;
}

const generateAsset = `mutation ($id: ID!, $kind: AssetKind!, $instructions: String) { generateAsset(campaignId: $id, kind: $kind, instructions: $instructions) { ${campaignFields} } }`;
const readCampaign = `query ($id: ID!) { campaign(id: $id) { ${campaignFields} } }`;
const correctAsset = `mutation ($input: CorrectAssetInput!) { correctAsset(input: $input) { ${campaignFields} } }`;

describe('generating a campaign from its website', () => {
  let campaignId: string;
  let generated: Record<string, any>;

  beforeAll(async () => {
    campaignId = await newCampaign(site.origin, 'pricing: From $49 per user per month, billed annually\nWe mostly sell to controllers.');
    const result = await gql(generateAsset, { id: campaignId, kind: 'EMAIL_SEQUENCE' });
    expect(result.errors).toBeUndefined();
    generated = result.data!['generateAsset'];
  });

  it('analyses the website, then builds the email sequence and every asset it needs first, in build order', () => {
    expect(generated.website.analyzedAt).not.toBeNull();
    expect(generated.website.quality.score).toBeGreaterThan(0.5);
    expect(generated.websiteError).toBeNull();
    expect(generated.assets.map((asset: AssetStatus) => [asset.kind, asset.state, asset.version, asset.provider])).toEqual(kinds.map((kind) => [kind, 'READY', 1, 'offline']));
    const built = generated.assets.map((asset: AssetStatus) => Date.parse(asset.generatedAt!));
    expect(built).toEqual(built.toSorted((left: number, right: number) => left - right));
    expect(statusOf(generated as { assets: AssetStatus[] }, 'EMAIL_SEQUENCE').basedOn).toEqual([
      { kind: 'PRODUCT_OVERVIEW', version: 1 },
      { kind: 'TARGET_PERSONA', version: 1 },
      { kind: 'POSITIONING', version: 1 },
    ]);
    for (const asset of generated.assets as AssetStatus[]) {
      expect(asset.websiteAnalyzedAt).toBe(generated.website.analyzedAt);
      expect(asset.passageCount).toBeGreaterThan(0);
      // Offline answers are extracted, never presented as AI: low confidence, marked weak.
      expect(asset).toMatchObject({ confidence: expect.any(Number), weak: true, origin: 'GENERATED' });
      expect(asset.confidence).toBeLessThanOrEqual(0.3);
    }
  });

  it('grounds every asset in the website: each quote is on the page it names', () => {
    const pages = northwindWordsByPath();
    for (const asset of generated.assets as AssetStatus[]) {
      expect(asset.sources.length).toBeGreaterThan(0);
      for (const source of asset.sources) {
        const path = new URL(source.url).pathname;
        const words = pages.get(path === '' ? '/' : path);
        expect({ quote: source.quote, page: path, missing: wordsOf(source.quote).filter((word) => !words?.has(word)) }).toEqual({ quote: source.quote, page: path, missing: [] });
      }
    }
  });

  it('builds each asset on the others and on the user\'s notes, which win over the website', () => {
    expect(generated.productOverview.companyName).toBe('Northwind Ledger');
    expect(generated.productOverview.pricing).toBe('From $49 per user per month, billed annually');
    expect(generated.targetCompany.firmographics.industries).toEqual(expect.arrayContaining(['SaaS']));
    expect(generated.targetPersona.jobTitles.length).toBeGreaterThan(0);
    expect(generated.emailSequence.emails[0]).toMatchObject({ step: 1, delayDays: 0 });
    expect(generated.emailSequence.emails.map((email: { body: string }) => email.body).join(' ')).toMatch(/\{\{firstName\}\}/);
  });

  it('resolves Campaign.enrichmentPlan from the targeting fields it @requires, in the same query, within the budget', async () => {
    const result = await gql(
      `query ($id: ID!) { campaign(id: $id) { targetPersona { jobTitles } enrichmentPlan { estimatedCostPerRecordUsd workflow uncoveredAttributes recommendations { name category costPerRecordUsd } } cheap: enrichmentPlan(budgetUsdPerRecord: 0.02) { estimatedCostPerRecordUsd } } }`,
      { id: campaignId },
    );
    expect(result.errors).toBeUndefined();
    const { enrichmentPlan, cheap, targetPersona } = result.data!['campaign'];
    expect(enrichmentPlan.recommendations.length).toBeGreaterThan(0);
    expect(enrichmentPlan.estimatedCostPerRecordUsd).toBeLessThanOrEqual(0.25);
    expect(cheap.estimatedCostPerRecordUsd).toBeLessThanOrEqual(0.02);
    // The plan reads the persona the campaign service resolved for it.
    expect(enrichmentPlan.workflow.join(' ')).toContain(targetPersona.jobTitles[0]);
  });

  it('has no enrichment plan before the campaign has targeting', async () => {
    const id = await newCampaign(site.origin);
    const result = await gql(`query ($id: ID!) { campaign(id: $id) { targetCompany { name } enrichmentPlan { estimatedCostPerRecordUsd } } }`, { id });
    expect(result.errors).toBeUndefined();
    expect(result.data!['campaign']).toEqual({ targetCompany: null, enrichmentPlan: null });
  });

  it('rebuilds an asset asked for by name and leaves what is built on it STALE', async () => {
    const id = await newCampaign(site.origin);
    expect((await gql(generateAsset, { id, kind: 'POSITIONING' })).errors).toBeUndefined();
    const result = await gql(generateAsset, { id, kind: 'TARGET_COMPANY' });
    expect(result.errors).toBeUndefined();
    const campaign = result.data!['generateAsset'];
    expect(campaign.assets.map((asset: AssetStatus) => [asset.kind, asset.state, asset.version])).toEqual([
      ['PRODUCT_OVERVIEW', 'READY', 1],
      ['TARGET_COMPANY', 'READY', 2],
      ['TARGET_PERSONA', 'STALE', 1],
      ['POSITIONING', 'STALE', 1],
      ['EMAIL_SEQUENCE', 'MISSING', null],
    ]);
    expect(statusOf(campaign, 'TARGET_PERSONA').staleReason).toBe('TARGET_COMPANY was regenerated (version 2).');
    // Asking for the positioning again rebuilds the stale persona first, then the positioning on it.
    const again = await gql(generateAsset, { id, kind: 'POSITIONING' });
    expect(again.data!['generateAsset'].assets.map((asset: AssetStatus) => [asset.kind, asset.state, asset.version])).toEqual([
      ['PRODUCT_OVERVIEW', 'READY', 1],
      ['TARGET_COMPANY', 'READY', 2],
      ['TARGET_PERSONA', 'READY', 2],
      ['POSITIONING', 'READY', 2],
      ['EMAIL_SEQUENCE', 'MISSING', null],
    ]);
    expect(statusOf(again.data!['generateAsset'], 'POSITIONING').basedOn).toEqual([
      { kind: 'PRODUCT_OVERVIEW', version: 1 },
      { kind: 'TARGET_PERSONA', version: 2 },
    ]);
  });
});

describe('corrections', () => {
  it('keep the user\'s value, mark what is built on it STALE, rebuild it on request, and survive a regeneration', async () => {
    const id = await newCampaign(site.origin);
    expect((await gql(generateAsset, { id, kind: 'EMAIL_SEQUENCE' })).errors).toBeUndefined();

    const stale = await gql(correctAsset, { input: { campaignId: id, kind: 'TARGET_PERSONA', scope: 'FIELD', fieldPath: 'jobTitles', value: ['Corporate Controller', 'VP Finance'] } });
    expect(stale.errors).toBeUndefined();
    expect(stale.data!['correctAsset'].assets.map((asset: AssetStatus) => [asset.kind, asset.state, asset.version])).toEqual([
      ['PRODUCT_OVERVIEW', 'READY', 1],
      ['TARGET_COMPANY', 'READY', 1],
      ['TARGET_PERSONA', 'READY', 2],
      ['POSITIONING', 'STALE', 1],
      ['EMAIL_SEQUENCE', 'STALE', 1],
    ]);

    const rebuilt = await gql(correctAsset, {
      input: { campaignId: id, kind: 'TARGET_PERSONA', fieldPath: 'departments', value: ['Finance'], regenerateStale: true },
    });
    expect(rebuilt.errors).toBeUndefined();
    const campaign = rebuilt.data!['correctAsset'];
    expect(campaign.assets.map((asset: AssetStatus) => [asset.kind, asset.state, asset.version])).toEqual([
      ['PRODUCT_OVERVIEW', 'READY', 1],
      ['TARGET_COMPANY', 'READY', 1],
      ['TARGET_PERSONA', 'READY', 3],
      ['POSITIONING', 'READY', 2],
      ['EMAIL_SEQUENCE', 'READY', 2],
    ]);
    expect(statusOf(campaign, 'EMAIL_SEQUENCE').basedOn).toContainEqual({ kind: 'TARGET_PERSONA', version: 3 });
    expect(campaign.corrections.map((correction: { fieldPath: string; beforeVersion: number; afterVersion: number; staleKinds: string[] }) => [correction.fieldPath, correction.beforeVersion, correction.afterVersion, correction.staleKinds])).toEqual([
      ['jobTitles', 1, 2, ['POSITIONING', 'EMAIL_SEQUENCE']],
      // Stale already, they are stale now for this correction too (and were rebuilt on it).
      ['departments', 2, 3, ['POSITIONING', 'EMAIL_SEQUENCE']],
    ]);

    // The enrichment plan follows the corrected persona.
    const plan = await gql(`query ($id: ID!) { campaign(id: $id) { enrichmentPlan { workflow } } }`, { id });
    expect(plan.data!['campaign'].enrichmentPlan.workflow.join(' ')).toContain('Corporate Controller');

    // Regenerating the persona keeps the user's corrections over the new answer (user > generated).
    const regenerated = await gql(generateAsset, { id, kind: 'TARGET_PERSONA' });
    expect(regenerated.errors).toBeUndefined();
    expect(regenerated.data!['generateAsset'].targetPersona).toMatchObject({ jobTitles: ['Corporate Controller', 'VP Finance'], departments: ['Finance'] });
    expect(statusOf(regenerated.data!['generateAsset'], 'TARGET_PERSONA')).toMatchObject({ version: 4, origin: 'GENERATED', state: 'READY' });
  });

  it('refuse a bad field with BAD_USER_INPUT naming the path, and change nothing', async () => {
    const id = await newCampaign(site.origin);
    expect((await gql(generateAsset, { id, kind: 'TARGET_COMPANY' })).errors).toBeUndefined();
    const before = await gql(readCampaign, { id });
    const result = await gql(correctAsset, { input: { campaignId: id, kind: 'TARGET_COMPANY', fieldPath: 'buyingSignals[0].priority', value: 'URGENT' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fieldPath: 'buyingSignals[0].priority' });
    expect(result.errors?.[0]?.message).toMatch(/^buyingSignals\[0\]\.priority: /);
    expect((await gql(readCampaign, { id })).data).toEqual(before.data);
  });
});

describe('generateCampaign', () => {
  it('builds the assets in the background, with progress, and builds nothing the second time', async () => {
    const id = await newCampaign(site.origin);
    const started = await gql(`mutation ($id: ID!) { generateCampaign(campaignId: $id) { id status kinds total completed campaign { id } } }`, { id });
    expect(started.errors).toBeUndefined();
    const job = started.data!['generateCampaign'];
    expect(job).toMatchObject({ kinds, total: 5, campaign: { id } });
    expect(['QUEUED', 'RUNNING', 'SUCCEEDED']).toContain(job.status);

    const finished = await waitForJob(job.id);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', total: 5, completed: 5, failed: 0, percent: 100 });
    expect(finished.message).toMatch(/^Built PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA, POSITIONING, EMAIL_SEQUENCE\.$/);
    const campaign = (await gql(`query ($id: ID!) { campaign(id: $id) { assets { state } jobs { id status } } }`, { id })).data!['campaign'];
    expect(campaign.assets.map((asset: { state: string }) => asset.state)).toEqual(kinds.map(() => 'READY'));
    expect(campaign.jobs).toEqual([{ id: job.id, status: 'SUCCEEDED' }]);

    const second = await gql(`mutation ($id: ID!) { generateCampaign(campaignId: $id, kinds: [POSITIONING]) { id kinds } }`, { id });
    expect(second.data!['generateCampaign'].kinds).toEqual(['POSITIONING']);
    expect(await waitForJob(second.data!['generateCampaign'].id)).toMatchObject({ status: 'SUCCEEDED', total: 0, completed: 0, message: 'Nothing to build: every asset asked for is ready.' });
  });
});

describe('a generateCampaign job, followed live', () => {
  it('streams each step through Subscription.jobProgress, with the campaign\'s own fields from the campaign subgraph', async () => {
    const socket = createGraphQLWebSocketClient(stack.gatewayUrl, { authorization: `Bearer ${stack.apiKey}` });
    try {
      const id = await newCampaign(site.origin);
      const started = await gql(`mutation ($id: ID!) { generateCampaign(campaignId: $id, kinds: [TARGET_PERSONA]) { id status steps { kind reason } } }`, { id });
      expect(started.errors).toBeUndefined();
      const job = started.data!['generateCampaign'];
      // The persona needs the product overview and the target company first.
      expect(job.steps).toEqual([
        { kind: 'PRODUCT_OVERVIEW', reason: 'MISSING' },
        { kind: 'TARGET_COMPANY', reason: 'MISSING' },
        { kind: 'TARGET_PERSONA', reason: 'MISSING' },
      ]);
      const subscription = subscribeForTest(socket, {
        query: `subscription ($jobId: ID!) { jobProgress(jobId: $jobId) { kind status total completed failed percent message campaign { id targetPersona { name } } } }`,
        variables: { jobId: job.id },
      });
      expect(await subscription.ended).toEqual({ completed: true });
      expect(subscription.results.every((result) => result.errors === undefined)).toBe(true);
      const events = subscription.results.map((result) => result.data!['jobProgress']);
      const last = events.at(-1);
      expect(last).toMatchObject({ kind: 'campaign-generation', status: 'SUCCEEDED', total: 3, completed: 3, failed: 0, percent: 100, message: 'Built PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA.' });
      // Read at delivery from the campaign subgraph: the persona the job built.
      expect(last.campaign).toEqual({ id, targetPersona: { name: expect.any(String) } });
      const processed = events.map((event) => event.completed + event.failed);
      expect(processed).toEqual(processed.toSorted((left, right) => left - right));
    } finally {
      await socket.dispose();
    }
  });

  it('cannot be cancelled once finished, and an unknown job is NOT_FOUND', async () => {
    const id = await newCampaign(site.origin);
    const job = (await gql(`mutation ($id: ID!) { generateCampaign(campaignId: $id, kinds: [PRODUCT_OVERVIEW]) { id } }`, { id })).data!['generateCampaign'];
    await waitForJob(job.id);
    const late = await gql(`mutation ($id: ID!) { cancelCampaignJob(id: $id) { id status } }`, { id: job.id });
    expect(late.errors?.[0]).toMatchObject({ message: `Campaign job ${job.id} already finished (SUCCEEDED); only a QUEUED or RUNNING job can be cancelled.`, extensions: { code: 'BAD_USER_INPUT' } });
    const unknown = await gql(`mutation ($id: ID!) { cancelCampaignJob(id: $id) { id } }`, { id: '9b2f5f9e-1f7c-4a51-9a35-1f8b7d4f0e11' });
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });
});

async function waitForJob(id: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const read = await gql(`query ($id: ID!) { campaignJob(id: $id) { id status total completed failed percent message startedAt finishedAt } }`, { id });
    expect(read.errors).toBeUndefined();
    const job = read.data!['campaignJob'];
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status) || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the legacy icp(websiteUrl)', () => {
  it('assembles the ICP from the decomposed assets, creating the campaign and generating what is missing', async () => {
    const result = await gql(`query ($url: String!) { icp(websiteUrl: $url) { websiteUrl campaign { id name assets { kind state } } companyName segment industries persona { name jobTitles } painPoints valuePropositions confidence basedOn { kind version } sources { url } } }`, {
      url: `${secondSite.origin}/`,
    });
    expect(result.errors).toBeUndefined();
    const icp = result.data!['icp'];
    expect(icp).toMatchObject({ websiteUrl: secondSite.origin, companyName: 'Northwind Ledger' });
    expect(icp.campaign.assets.map((asset: { state: string }) => asset.state)).toEqual(['READY', 'READY', 'READY', 'READY', 'MISSING']);
    expect(icp.basedOn.map((reference: { kind: string }) => reference.kind)).toEqual(['PRODUCT_OVERVIEW', 'TARGET_COMPANY', 'TARGET_PERSONA', 'POSITIONING']);
    expect(icp.persona.jobTitles.length).toBeGreaterThan(0);
    expect(icp.sources.length).toBeGreaterThan(0);

    // The same website again: the same campaign, nothing rebuilt.
    const again = await gql(`query ($url: String!) { icp(websiteUrl: $url) { campaign { id } basedOn { kind version } } }`, { url: secondSite.origin });
    expect(again.data!['icp']).toEqual({ campaign: { id: icp.campaign.id }, basedOn: icp.basedOn });
  });
});

describe('a website that cannot be analysed', () => {
  it('is recorded on the campaign and its assets, and the error says what to do', async () => {
    const unreachable = `http://127.0.0.1:${unreachablePort}`;
    const id = await newCampaign(unreachable);
    const result = await gql(generateAsset, { id, kind: 'TARGET_COMPANY' });
    expect(result.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(result.errors?.[0]?.message).toMatch(new RegExp(`^${unreachable} could not be analysed: .+ Check that the site is up and the address is right, then generate again\\.$`));
    const campaign = (await gql(readCampaign, { id })).data!['campaign'];
    expect(campaign.websiteError).toBe(result.errors?.[0]?.message);
    expect(campaign.assets.map((asset: AssetStatus) => [asset.kind, asset.state, asset.error])).toEqual([
      ['PRODUCT_OVERVIEW', 'FAILED', result.errors?.[0]?.message],
      ['TARGET_COMPANY', 'FAILED', result.errors?.[0]?.message],
      ['TARGET_PERSONA', 'MISSING', null],
      ['POSITIONING', 'MISSING', null],
      ['EMAIL_SEQUENCE', 'MISSING', null],
    ]);
  });

  it('refuses a private address the crawler may not fetch, as the user\'s mistake, before any campaign is saved', async () => {
    const before = (await gql('{ campaigns(first: 100) { edges { node { id } } } }')).data!['campaigns'].edges.length;
    const created = await gql(createCampaign, { input: { websiteUrl: 'http://10.0.0.7' } });
    expect(created.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'websiteUrl', url: 'http://10.0.0.7' });
    expect(created.errors?.[0]?.message).toMatch(/10\.0\.0\.7 is a private address .*never fetched/);
    expect((await gql('{ campaigns(first: 100) { edges { node { id } } } }')).data!['campaigns'].edges).toHaveLength(before);
  });
});

describe('tenants', () => {
  it('another tenant cannot read, generate, correct or follow the jobs of a campaign: NOT_FOUND, like one that does not exist', async () => {
    const id = await newCampaign(site.origin);
    const job = (await gql(`mutation ($id: ID!) { generateCampaign(campaignId: $id, kinds: [PRODUCT_OVERVIEW]) { id } }`, { id })).data!['generateCampaign'];
    await waitForJob(job.id);
    const { key } = await stack.gateway.services.apiKeys.createKey({ tenant: 'campaign-rival', tier: 'pro' });
    const rival = (query: string, variables: Record<string, unknown>) => stack.gql(query, variables, { authorization: `Bearer ${key}` });

    expect((await rival(`query ($id: ID!) { campaign(id: $id) { id productOverview { companyName } } }`, { id })).data).toEqual({ campaign: null });
    expect((await rival(`query ($id: ID!) { campaignJob(id: $id) { id } }`, { id: job.id })).data).toEqual({ campaignJob: null });
    expect((await rival(`query ($id: ID!) { jobProgress(jobId: $id) { status } }`, { id: job.id })).data).toEqual({ jobProgress: null });
    expect((await rival(`mutation ($id: ID!) { cancelCampaignJob(id: $id) { id } }`, { id: job.id })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const generate = await rival(`mutation ($id: ID!) { generateAsset(campaignId: $id, kind: PRODUCT_OVERVIEW) { id } }`, { id });
    expect(generate.errors?.[0]).toMatchObject({ message: `Campaign ${id} was not found.`, extensions: { code: 'NOT_FOUND' } });
    const correct = await rival(`mutation ($input: CorrectAssetInput!) { correctAsset(input: $input) { id } }`, { input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', fieldPath: 'pricing', value: 'Free' } });
    expect(correct.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const own = (await gql(readCampaign, { id })).data!['campaign'];
    expect(own.corrections).toEqual([]);
    expect(statusOf(own, 'PRODUCT_OVERVIEW')).toMatchObject({ state: 'READY', version: 1 });
  });
});
