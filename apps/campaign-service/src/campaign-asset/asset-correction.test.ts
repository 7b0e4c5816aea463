// Generation and corrections with a model: the campaign service with its real PostgreSQL and Redis,
// a local server speaking OpenAI's protocol through the real SDK, and the website context a request
// gathers from content-service (which a campaign-service test may not start), built from a real
// website capture.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTestCaller,
  exampleFromJsonSchema,
  startFakeOpenAiServer,
  startSubgraphUnderTest,
  type FakeLlmRequest,
  type FakeLlmServer,
  type SubgraphUnderTest,
} from '@gtm/testing';
import { createApp, type CampaignApp } from '../app.js';
import { AssetKind, assetTaskOf, type Asset } from '../assets/index.js';
import { contextOf, loadCapture, passagesOf } from '../assets/website-captures.fixture.js';
import { loadConfig } from '../config.js';
import { gatheredWebsiteContext } from '../website/website-context.js';
import { capturedWebsiteContext } from '../website/website-context.fixture.js';
import { AssetOrigin } from './campaign-asset.entity.js';

const capture = loadCapture('blossomer.io');
const website = capturedWebsiteContext('blossomer.io', 'Blossomer');

const schemaValid = (request: FakeLlmRequest) => ({ json: exampleFromJsonSchema(request.schema ?? {}) });

let model: FakeLlmServer;
let subgraph: SubgraphUnderTest<CampaignApp>;

beforeAll(async () => {
  model = await startFakeOpenAiServer({ respond: schemaValid });
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, LLM_PROVIDERS: 'openai', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL, LLM_CACHE_TTL_SECONDS: '0', LLM_MAX_RETRIES: '0' }), {
      onQuery,
      websiteFor: () => gatheredWebsiteContext(website),
    }),
  );
});

afterAll(async () => {
  await subgraph?.close();
  await model?.close();
});

/** A campaign of the capture whose product overview is stored as an offline run stores it. */
async function campaignWithOverview(caller: ReturnType<typeof createTestCaller>): Promise<string> {
  const created = await subgraph.call(caller, `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, { input: { websiteUrl: capture.url } });
  const id = created.data!['createCampaign'].id as string;
  const task = assetTaskOf(AssetKind.PRODUCT_OVERVIEW);
  await subgraph.app.services.repository.recordVersion(subgraph.app.database.forkForTenant(caller.tenantId), caller.tenantId, id, {
    kind: AssetKind.PRODUCT_OVERVIEW,
    origin: AssetOrigin.GENERATED,
    content: task.offline(contextOf('blossomer.io')) as Asset,
    confidence: 0.3,
    provider: 'offline',
    model: 'offline',
    promptVersion: task.version,
    instructions: null,
    basedOn: {},
    websiteAnalyzedAt: website.analyzedAt,
    passages: passagesOf(capture).slice(0, 12),
    grounding: { supportedQuotes: 0, misattributedQuotes: 0, unsupportedQuotes: [], checkedClaims: 0, unsupportedClaims: [] },
    warnings: [],
    usage: null,
  });
  return id;
}

const correctAsset = `mutation ($input: CorrectAssetInput!) { correctAsset(input: $input) { assets { kind version origin } productOverview { pricing } } }`;

describe('a correction that another write overtakes', () => {
  it('changes nothing and answers CONFLICT, keeping the write that came first', async () => {
    const caller = createTestCaller();
    const id = await campaignWithOverview(caller);
    // While the model rewrites the section, the user sets a field of the same asset.
    let fieldCorrection: Promise<unknown> | undefined;
    model.respondWith(async (request) => {
      fieldCorrection = subgraph.call(caller, correctAsset, { input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', fieldPath: 'pricing', value: 'From $2,000 per month' } });
      await fieldCorrection;
      return schemaValid(request);
    });
    try {
      const rewrite = await subgraph.call(caller, correctAsset, {
        input: { campaignId: id, kind: 'PRODUCT_OVERVIEW', scope: 'SECTION', fieldPath: 'keyFeatures', instructions: 'Lead with the outcome.' },
      });
      expect(rewrite.errors?.[0]).toMatchObject({
        message: 'PRODUCT_OVERVIEW changed while its section was rewritten; nothing was changed. Try again.',
        extensions: { code: 'CONFLICT' },
      });
    } finally {
      model.respondWith(schemaValid);
    }
    expect(await fieldCorrection).toMatchObject({ data: { correctAsset: { productOverview: { pricing: 'From $2,000 per month' } } } });
    const read = await subgraph.call(caller, `query ($id: ID!) { campaign(id: $id) { assets { kind version origin } corrections { scope } } }`, { id });
    expect(read.data!['campaign'].assets[0]).toEqual({ kind: 'PRODUCT_OVERVIEW', version: 2, origin: 'FIELD_CORRECTION' });
    expect(read.data!['campaign'].corrections).toEqual([{ scope: 'FIELD' }]);
  });
});

describe('a generation request', () => {
  it('reads its campaign once, however many assets it builds', async () => {
    const caller = createTestCaller();
    const id = await campaignWithOverview(caller);
    subgraph.queries.length = 0;
    const generated = await subgraph.call(caller, `mutation ($id: ID!) { generateAsset(campaignId: $id, kind: TARGET_PERSONA) { id websiteError assets { kind state provider } } }`, { id });
    expect(generated.errors).toBeUndefined();
    expect(generated.data!['generateAsset'].assets.map((asset: { kind: string; state: string; provider: string | null }) => `${asset.kind}:${asset.state}:${asset.provider}`)).toEqual([
      'PRODUCT_OVERVIEW:READY:openai',
      'TARGET_COMPANY:READY:openai',
      'TARGET_PERSONA:READY:openai',
      'POSITIONING:MISSING:null',
      'EMAIL_SEQUENCE:MISSING:null',
    ]);
    expect(subgraph.queries.filter((sql) => /\bfrom "campaign"\."campaign" as\b/.test(sql))).toHaveLength(1);
  });
});
