import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import type { CallerContext } from '@gtm/caller';
import { createTestCaller, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createApp, type CampaignApp } from '../app.js';
import { AssetKind, assetKinds, assetTaskOf, prerequisitesOf, type Asset } from '../assets/index.js';
import { contextOf, passagesOf, loadCapture } from '../assets/website-captures.fixture.js';
import { Campaign } from '../campaign/campaign.entity.js';
import { loadConfig } from '../config.js';
import { AssetOrigin, AssetState } from './campaign-asset.entity.js';
import { CampaignAssetRepository } from './campaign-asset.repository.js';

// The campaign service alone, with its real PostgreSQL and Redis. Generation needs content-service,
// which a campaign-service test may not start (tools/check-boundaries.ts): the stack tests in
// e2e/src/campaign-intelligence.test.ts cover it. Here CONTENT_SERVICE_URL leads nowhere, and the
// assets are stored as a run stores them, from the offline answers on a real website capture.

let subgraph: SubgraphUnderTest<CampaignApp>;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const port = await closedPort();
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, CONTENT_SERVICE_URL: `http://127.0.0.1:${port}/graphql`, CONTENT_SERVICE_TIMEOUT_MS: '2000' }), { onQuery }),
  );
});

afterAll(() => subgraph?.close());

const createCampaign = `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;
const readAssets = `query ($id: ID!) {
  campaign(id: $id) {
    id websiteError
    productOverview { companyName description keyFeatures pricing }
    targetCompany { name firmographics { industries employeeRange } buyingSignals { title type priority } }
    targetPersona { name jobTitles seniority buyingRoles }
    positioning { uniqueInsight valuePropositions { theme evidence } }
    emailSequence { emails { step subject purpose } }
    assets { kind state version confidence weak provider origin promptVersion sources { url quote } basedOn { kind version } passageCount warnings error staleReason }
    corrections { kind scope fieldPath value instructions beforeVersion afterVersion staleKinds createdAt }
  }
}`;
const correctAsset = `mutation ($input: CorrectAssetInput!) { correctAsset(input: $input) { id assets { kind state version origin provider staleReason } productOverview { keyFeatures } targetCompany { firmographics { industries } } } }`;

/**
 * A campaign of the blossomer.io capture with all five assets stored as a generation run stores
 * them: the offline answers, each built on the ones before it.
 */
async function campaignWithAssets(caller: CallerContext, built: { confidence: number; provider: string } = { confidence: 0.3, provider: 'offline' }): Promise<{ id: string; contents: Record<AssetKind, Asset> }> {
  const created = await subgraph.call(caller, createCampaign, { input: { websiteUrl: loadCapture('blossomer.io').url } });
  const id = created.data!['createCampaign'].id as string;
  const em = subgraph.app.database.forkForTenant(caller.tenantId);
  const contents = {} as Record<AssetKind, Asset>;
  const passages = passagesOf(loadCapture('blossomer.io'));
  for (const kind of assetKinds) {
    const task = assetTaskOf(kind);
    contents[kind] = task.offline(contextOf('blossomer.io', { prerequisites: { ...contents } })) as Asset;
    await subgraph.app.services.repository.recordVersion(em, caller.tenantId, id, {
      kind,
      origin: AssetOrigin.GENERATED,
      content: contents[kind],
      confidence: built.confidence,
      provider: built.provider,
      model: built.provider,
      promptVersion: task.version,
      instructions: null,
      basedOn: Object.fromEntries(prerequisitesOf(kind).map((prerequisite) => [prerequisite, 1])),
      websiteAnalyzedAt: new Date('2026-11-20T10:00:00Z'),
      passages: passages.slice(0, 12),
      grounding: { supportedQuotes: contents[kind].sources.length, misattributedQuotes: 0, unsupportedQuotes: [], checkedClaims: 0, unsupportedClaims: [] },
      warnings: [],
      usage: null,
    });
  }
  return { id, contents };
}

const statusOf = (campaign: Record<string, any>, kind: AssetKind) => campaign['assets'].find((asset: { kind: string }) => asset.kind === kind);

describe('a campaign\'s assets', () => {
  it('shows MISSING for every asset before anything is generated, and no asset content', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'acme.example' } });
    const read = await subgraph.call(caller, readAssets, { id: created.data!['createCampaign'].id });
    expect(read.errors).toBeUndefined();
    const campaign = read.data!['campaign'];
    expect(campaign.assets.map((asset: { kind: string; state: string; version: unknown }) => [asset.kind, asset.state, asset.version])).toEqual(assetKinds.map((kind) => [kind, 'MISSING', null]));
    expect([campaign.productOverview, campaign.targetCompany, campaign.targetPersona, campaign.positioning, campaign.emailSequence]).toEqual([null, null, null, null, null]);
    expect(campaign.corrections).toEqual([]);
  });

  it('shows each stored asset field for field, with its status: version, provider, sources and what it was built on', async () => {
    const caller = createTestCaller();
    const { id, contents } = await campaignWithAssets(caller);
    const read = await subgraph.call(caller, readAssets, { id });
    expect(read.errors).toBeUndefined();
    const campaign = read.data!['campaign'];
    const overview = contents.PRODUCT_OVERVIEW as { companyName: string; description: string; keyFeatures: string[]; pricing: string };
    expect(campaign.productOverview).toEqual({ companyName: overview.companyName, description: overview.description, keyFeatures: overview.keyFeatures, pricing: overview.pricing });
    expect(campaign.targetPersona.seniority.length).toBeGreaterThan(0);
    expect(campaign.emailSequence.emails[0]).toMatchObject({ step: 1, purpose: 'INTRODUCTION' });
    const persona = statusOf(campaign, AssetKind.TARGET_PERSONA);
    const passageCount = Math.min(12, passagesOf(loadCapture('blossomer.io')).length);
    expect(persona).toMatchObject({ state: 'READY', version: 1, confidence: 0.3, weak: true, provider: 'offline', origin: 'GENERATED', promptVersion: '1', passageCount, error: null });
    expect(persona.basedOn).toEqual([
      { kind: 'PRODUCT_OVERVIEW', version: 1 },
      { kind: 'TARGET_COMPANY', version: 1 },
    ]);
    expect(persona.sources).toEqual(contents.TARGET_PERSONA.sources);
  });

  it('reads the assets of 100 campaigns, as the gateway asks for @requires, in two queries more than the campaigns\' own', async () => {
    const caller = createTestCaller();
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) ids.push((await campaignWithAssets(caller)).id);
    for (let index = 0; index < 97; index += 1) ids.push((await subgraph.call(caller, createCampaign, { input: { websiteUrl: `bare${index}.example` } })).data!['createCampaign'].id);
    subgraph.queries.length = 0;
    const result = await subgraph.call(caller, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Campaign { id targetCompany { firmographics { industries } buyingSignals { type priority } } targetPersona { jobTitles seniority } } } }`, {
      representations: ids.map((id) => ({ __typename: 'Campaign', id })),
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!['_entities'][0].targetPersona.jobTitles.length).toBeGreaterThan(0);
    expect(result.data!['_entities'][99].targetCompany).toBeNull();
    // One for the campaigns, two for their assets (states, then current versions).
    expect(subgraph.queries.filter((sql) => /select\s/i.test(sql))).toHaveLength(3);
  });
});

describe('field corrections', () => {
  it('set the value at the path as a new version, keep the history, and make every asset built on it STALE', async () => {
    const caller = createTestCaller();
    const { id } = await campaignWithAssets(caller);
    const corrected = await subgraph.call(caller, correctAsset, {
      input: { campaignId: id, kind: 'TARGET_COMPANY', scope: 'FIELD', fieldPath: 'firmographics.industries', value: ['Fintech', 'Banking'] },
    });
    expect(corrected.errors).toBeUndefined();
    const campaign = corrected.data!['correctAsset'];
    expect(campaign.targetCompany.firmographics.industries).toEqual(['Fintech', 'Banking']);
    expect(statusOf(campaign, AssetKind.TARGET_COMPANY)).toMatchObject({ state: 'READY', version: 2, origin: 'FIELD_CORRECTION', provider: 'user' });
    expect(statusOf(campaign, AssetKind.PRODUCT_OVERVIEW)).toMatchObject({ state: 'READY', version: 1, staleReason: null });
    for (const kind of [AssetKind.TARGET_PERSONA, AssetKind.POSITIONING, AssetKind.EMAIL_SEQUENCE]) {
      expect(statusOf(campaign, kind)).toMatchObject({ state: 'STALE', version: 1, staleReason: 'TARGET_COMPANY was corrected (version 2).' });
    }

    const second = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', fieldPath: 'keyFeatures[0]', value: 'Done-for-you outbound' } });
    expect(second.errors).toBeUndefined();
    expect(second.data!['correctAsset'].productOverview.keyFeatures[0]).toBe('Done-for-you outbound');

    const read = await subgraph.call(caller, readAssets, { id });
    expect(read.data!['campaign'].corrections).toEqual([
      expect.objectContaining({ kind: 'TARGET_COMPANY', scope: 'FIELD', fieldPath: 'firmographics.industries', value: ['Fintech', 'Banking'], beforeVersion: 1, afterVersion: 2, staleKinds: ['TARGET_PERSONA', 'POSITIONING', 'EMAIL_SEQUENCE'] }),
      // Already-stale dependents stay STALE; the target company is stale now too.
      expect.objectContaining({ kind: 'PRODUCT_OVERVIEW', scope: 'FIELD', fieldPath: 'keyFeatures[0]', value: 'Done-for-you outbound', beforeVersion: 1, afterVersion: 2, staleKinds: ['TARGET_COMPANY', 'TARGET_PERSONA', 'POSITIONING', 'EMAIL_SEQUENCE'] }),
    ]);
    expect(statusOf(read.data!['campaign'], AssetKind.TARGET_COMPANY)).toMatchObject({ state: 'STALE', version: 2, staleReason: 'PRODUCT_OVERVIEW was corrected (version 2).' });
  });

  it('refuses a path the asset does not have, or a value its schema refuses, with BAD_USER_INPUT naming the path, and changes nothing', async () => {
    const caller = createTestCaller();
    const { id } = await campaignWithAssets(caller);
    const before = await subgraph.call(caller, readAssets, { id });

    const badPath = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', fieldPath: 'keyFeaturez[0]', value: 'x' } });
    expect(badPath.errors?.[0]).toMatchObject({ message: 'keyFeaturez[0] is not a field of this asset.', extensions: { code: 'BAD_USER_INPUT', field: 'input.fieldPath' } });

    const badValue = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', fieldPath: 'keyFeatures[0]', value: '   ' } });
    expect(badValue.errors?.[0]).toMatchObject({ message: 'keyFeatures[0]: must be 1 to 300 characters', extensions: { code: 'BAD_USER_INPUT', field: 'input.value', fieldPath: 'keyFeatures[0]' } });

    const badEnum = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'TARGET_PERSONA', fieldPath: 'seniority', value: ['CEO'] } });
    expect(badEnum.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fieldPath: 'seniority' });
    expect(badEnum.errors?.[0]?.message).toMatch(/^seniority\[0\]: /);

    const pastTheEnd = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', fieldPath: 'keyFeatures[40]', value: 'x' } });
    expect(pastTheEnd.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const noValue = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', fieldPath: 'pricing' } });
    expect(noValue.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.value' });

    const after = await subgraph.call(caller, readAssets, { id });
    expect(after.data).toEqual(before.data);
  });

  it('refuses to correct an asset that was never generated', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'acme.example' } });
    const result = await subgraph.call(caller, correctAsset, { input: { campaignId: created.data!['createCampaign'].id, kind: 'POSITIONING', fieldPath: 'uniqueInsight', value: 'x' } });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.kind' } });
    expect(result.errors?.[0]?.message).toMatch(/POSITIONING has not been generated yet.*generateAsset/);
  });
});

describe('corrections that follow instructions', () => {
  it('need a language model: with only the offline provider they are refused and change nothing', async () => {
    const caller = createTestCaller();
    const { id } = await campaignWithAssets(caller);
    const before = await subgraph.call(caller, readAssets, { id });
    const section = await subgraph.call(caller, correctAsset, {
      input: { campaignId: id, kind: 'POSITIONING', scope: 'SECTION', fieldPath: 'valuePropositions', instructions: 'Lead with time saved.' },
    });
    expect(section.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(section.errors?.[0]?.message).toMatch(/needs a language model.*OPENAI_API_KEY or ANTHROPIC_API_KEY.*scope FIELD.*Nothing was changed/);
    const global = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'POSITIONING', scope: 'GLOBAL', instructions: 'Speak to CFOs.' } });
    expect(global.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    const after = await subgraph.call(caller, readAssets, { id });
    expect(after.data).toEqual(before.data);
  });

  it('need their instructions, and a section needs its path', async () => {
    const caller = createTestCaller();
    const { id } = await campaignWithAssets(caller);
    const noInstructions = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'POSITIONING', scope: 'GLOBAL', instructions: '  ' } });
    expect(noInstructions.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.instructions' });
    const noPath = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'POSITIONING', scope: 'SECTION', instructions: 'Shorter.' } });
    expect(noPath.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fieldPath' });
    const tooLong = await subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'POSITIONING', scope: 'GLOBAL', instructions: 'x'.repeat(4001) } });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'instructions' });
  });
});

describe('generation without the content service', () => {
  it('fails with UPSTREAM_UNAVAILABLE, records no website error, and leaves the assets as they were', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, createCampaign, { input: { websiteUrl: 'acme.example' } });
    const id = created.data!['createCampaign'].id;
    const generated = await subgraph.call(caller, `mutation ($id: ID!) { generateAsset(campaignId: $id, kind: TARGET_COMPANY) { id } }`, { id });
    expect(generated.errors?.[0]).toMatchObject({
      message: 'The website analysis service did not answer, so nothing was generated. Try again in a minute.',
      extensions: { code: 'UPSTREAM_UNAVAILABLE' },
    });
    const read = await subgraph.call(caller, readAssets, { id });
    expect(read.data!['campaign'].websiteError).toBeNull();
    expect(read.data!['campaign'].assets.map((asset: { state: string }) => asset.state)).toEqual(assetKinds.map(() => 'MISSING'));
    const job = await subgraph.call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id });
    expect(job.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('builds nothing, and asks nothing of the content service, when every asset asked for is ready', async () => {
    const caller = createTestCaller();
    const run = { em: subgraph.app.database.forkForTenant(caller.tenantId), tenantId: caller.tenantId, attribution: { tenantId: caller.tenantId }, logger: subgraph.app.logger };
    const websiteReads: string[] = [];
    const website = {
      load: async (url: string) => {
        websiteReads.push(url);
        return { url, title: null, summary: null, analyzedAt: new Date('2026-11-20T10:00:00Z'), quality: { level: 'SUFFICIENT', score: 0.9, gaps: [] }, searches: { anything: passagesOf(loadCapture('blossomer.io')) } };
      },
    };
    const strong = await campaignWithAssets(caller, { confidence: 0.8, provider: 'openai' });
    const campaignOf = (id: string) => run.em.findOneOrFail(Campaign, { id });
    const sound = await subgraph.app.services.engine.generate(run, await campaignOf(strong.id), { kinds: [AssetKind.EMAIL_SEQUENCE], website });
    expect(sound.plan.steps).toEqual([]);
    expect(websiteReads).toEqual([]);

    // Weak offline assets: only a newer analysis could improve them (no model is configured), so
    // the website's analysis date is read, and nothing is rebuilt when it has not changed.
    const weak = await campaignWithAssets(caller);
    const kept = await subgraph.app.services.engine.generate(run, await campaignOf(weak.id), { kinds: [AssetKind.EMAIL_SEQUENCE], website });
    expect(kept.plan).toEqual({ steps: [], weakKept: assetKinds });
    expect(websiteReads).toHaveLength(1);
  });
});

describe('tenants and unknown campaigns', () => {
  it('answers NOT_FOUND for a campaign that does not exist or is another tenant\'s, and shows no other tenant\'s assets', async () => {
    const owner = createTestCaller();
    const other = createTestCaller();
    const { id } = await campaignWithAssets(owner);
    for (const [caller, campaignId] of [
      [other, id],
      [owner, '9b2f5f9e-1f7c-4a51-9a35-1f8b7d4f0e11'],
    ] as const) {
      const generate = await subgraph.call(caller, `mutation ($id: ID!) { generateAsset(campaignId: $id, kind: POSITIONING) { id } }`, { id: campaignId });
      expect(generate.errors?.[0]).toMatchObject({ message: `Campaign ${campaignId} was not found.`, extensions: { code: 'NOT_FOUND' } });
      const correct = await subgraph.call(caller, correctAsset, { input: { campaignId, kind: 'PRODUCT_OVERVIEW', fieldPath: 'pricing', value: 'Free' } });
      expect(correct.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      const job = await subgraph.call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id: campaignId });
      expect(job.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
    const byReference = await subgraph.call(other, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Campaign { id targetCompany { name } } } }`, {
      representations: [{ __typename: 'Campaign', id }],
    });
    expect(byReference.data!['_entities']).toEqual([null]);
    const own = await subgraph.call(owner, readAssets, { id });
    expect(own.data!['campaign'].corrections).toEqual([]);
    expect(statusOf(own.data!['campaign'], AssetKind.PRODUCT_OVERVIEW)).toMatchObject({ version: 1, state: 'READY' });
  });
});

describe('concurrent writers', () => {
  it('number the versions of one asset one after the other, creating its row once', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, createCampaign, { input: { websiteUrl: loadCapture('blossomer.io').url } });
    const id = created.data!['createCampaign'].id as string;
    const content = assetTaskOf(AssetKind.PRODUCT_OVERVIEW).offline(contextOf('blossomer.io')) as Asset;
    const draft = {
      kind: AssetKind.PRODUCT_OVERVIEW,
      origin: AssetOrigin.GENERATED,
      content,
      confidence: 0.3,
      provider: 'offline',
      model: 'offline',
      promptVersion: '1',
      instructions: null,
      basedOn: {},
      websiteAnalyzedAt: null,
      passages: [],
      grounding: { supportedQuotes: 0, misattributedQuotes: 0, unsupportedQuotes: [], checkedClaims: 0, unsupportedClaims: [] },
      warnings: [],
      usage: null,
    };
    const em = subgraph.app.database.forkForTenant(caller.tenantId);
    const written = await Promise.all([1, 2, 3].map(() => subgraph.app.services.repository.recordVersion(em, caller.tenantId, id, { ...draft })));
    expect(written.map((recorded) => recorded.version.version).toSorted()).toEqual([1, 2, 3]);
    const read = await subgraph.call(caller, readAssets, { id });
    expect(statusOf(read.data!['campaign'], AssetKind.PRODUCT_OVERVIEW)).toMatchObject({ state: 'READY', version: 3 });
  });
});

describe('an interrupted generation', () => {
  it('reads FAILED, with what to do, once it is older than any generation takes', async () => {
    const caller = createTestCaller();
    const { id } = await campaignWithAssets(caller);
    const em = subgraph.app.database.forkForTenant(caller.tenantId);
    await subgraph.app.services.repository.markGenerating(em, caller.tenantId, id, [AssetKind.POSITIONING]);
    const now = new CampaignAssetRepository();
    const later = new CampaignAssetRepository({ now: () => new Date(Date.now() + 16 * 60_000) });
    expect((await now.load(em, id)).find((record) => record.kind === AssetKind.POSITIONING)).toMatchObject({ state: AssetState.GENERATING });
    expect((await later.load(em, id)).find((record) => record.kind === AssetKind.POSITIONING)).toMatchObject({
      state: AssetState.FAILED,
      error: expect.stringMatching(/interrupted.*Generate it again/),
    });
  });
});
