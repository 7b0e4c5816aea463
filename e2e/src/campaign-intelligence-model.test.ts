import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createRedis, llmUsageStreamKey, llmUsageEventSchema } from '@gtm/runtime';
import { exampleFromJsonSchema, startFakeOpenAiServer, testEnvironment, type FakeLlmReply, type FakeLlmRequest, type FakeLlmServer, type FixtureSite } from '@gtm/testing';
import { startStack, type Stack } from './stack.js';
import { campaignFields, createCampaign, startNorthwindSite, statusOf, type AssetStatus } from './campaign-fixtures.js';

// Campaign intelligence through the gateway with a model: the campaign service's LLM layer talks to
// a local server that speaks OpenAI's wire protocol (the real SDK drives it), answers in 100 ms and
// records every request. Its answers are schema-valid and cite passages of the prompt, unless the
// prompt asks it (through the user's notes) to cite something the website does not say.

const modelDelayMs = 100;
const inventedQuote = 'Trusted by 10,000 banks worldwide.';
const lieMarker = 'cite-an-invented-quote';

let stack: Stack;
let site: FixtureSite;
let openAi: FakeLlmServer;

/** The task a request is for, from the schema name libs/llm sends (`campaign_product-overview`). */
const taskOf = (request: FakeLlmRequest) => String(request.body?.response_format?.json_schema?.name ?? '').replace(/^campaign_/, '');

/** The passages a prompt carries, as `buildAssetPrompt` lays them out. */
function passagesIn(prompt: string): { url: string; text: string }[] {
  return [...prompt.matchAll(/<passage index="\d+" url="([^"]+)" heading="[^"]*">\n([\s\S]*?)\n<\/passage>/g)].map((match) => ({ url: match[1]!, text: match[2]! }));
}

/** The first words of a passage, copied as they are: a quote the website contains. */
function quoteFrom(text: string): string {
  const start = text.trim().slice(0, 120);
  return start.length < 120 ? start : start.slice(0, start.lastIndexOf(' '));
}

/** A schema-valid answer citing the first passages of the prompt; a section rewrite answers its own way. */
function respond(request: FakeLlmRequest): FakeLlmReply {
  if (!request.schema) return { text: 'Plain answer.' };
  if (taskOf(request) === 'section-rewrite') return { json: { value: ['Closes the books in three days, not three weeks'], sources: [] } };
  const answer = exampleFromJsonSchema(request.schema) as { sources: { url: string; quote: string }[] };
  const passages = passagesIn(request.prompt);
  answer.sources = passages.slice(0, 3).map((passage) => ({ url: passage.url, quote: quoteFrom(passage.text) }));
  if (request.prompt.includes(lieMarker)) answer.sources.push({ url: passages[0]!.url, quote: inventedQuote });
  return { json: answer };
}

beforeAll(async () => {
  [site, openAi] = await Promise.all([startNorthwindSite(), startFakeOpenAiServer({ respond, delayMs: modelDelayMs, model: 'gpt-5-mini-2025-08-07' })]);
  stack = await startStack({
    subgraphEnvironment: {
      content: { CONTENT_FETCH_ALLOWLIST: site.host },
      campaign: {
        LLM_PROVIDERS: 'openai,offline',
        OPENAI_API_KEY: 'sk-test-campaign',
        OPENAI_BASE_URL: openAi.baseURL,
        // Every step asks the server: the test counts and orders the requests.
        LLM_CACHE_TTL_SECONDS: '0',
        LLM_MAX_RETRIES: '0',
      },
    },
  });
});

afterAll(async () => {
  await stack?.close();
  await Promise.all([site?.close(), openAi?.close()]);
});

beforeEach(() => openAi.reset());

const gql = (query: string, variables?: Record<string, unknown>) => stack.gql(query, variables);
const generateAsset = `mutation ($id: ID!, $kind: AssetKind!, $instructions: String) { generateAsset(campaignId: $id, kind: $kind, instructions: $instructions) { ${campaignFields} } }`;
const correctAsset = `mutation ($input: CorrectAssetInput!) { correctAsset(input: $input) { ${campaignFields} } }`;

async function newCampaign(userContext?: string): Promise<string> {
  const created = await gql(createCampaign, { input: { websiteUrl: site.origin, userContext } });
  expect(created.errors).toBeUndefined();
  return created.data!['createCampaign'].id;
}

async function generate(id: string, kind: string, instructions?: string) {
  const result = await gql(generateAsset, { id, kind, instructions });
  expect(result.errors).toBeUndefined();
  return result.data!['generateAsset'] as Record<string, any> & { assets: AssetStatus[] };
}

describe('generation with a model', () => {
  it('runs one model call per asset, in dependency order, each starting after the one it builds on has answered', async () => {
    const id = await newCampaign('We mostly sell to controllers.');
    const campaign = await generate(id, 'EMAIL_SEQUENCE');

    const requests = openAi.requests;
    expect(requests.map(taskOf)).toEqual(['product-overview', 'target-company', 'target-persona', 'positioning', 'email-sequence']);
    // A chain (each asset reads the one before it): no two calls overlap.
    for (const [index, request] of requests.entries()) {
      if (index > 0) expect(request.receivedAt - requests[index - 1]!.receivedAt).toBeGreaterThanOrEqual(modelDelayMs);
    }
    // Each prompt carries the website's passages, the user's notes and the assets already built.
    for (const request of requests) {
      expect(passagesIn(request.prompt).length).toBeGreaterThan(0);
      expect(passagesIn(request.prompt).every((passage) => passage.url.startsWith(site.origin))).toBe(true);
      expect(request.prompt).toContain('We mostly sell to controllers.');
      expect(request.body.response_format.json_schema.strict).toBe(true);
    }
    expect(requests[2]!.prompt).toContain('<asset kind="TARGET_COMPANY">');
    expect(requests[4]!.prompt).toMatch(/<asset kind="PRODUCT_OVERVIEW">[\s\S]*<asset kind="TARGET_PERSONA">[\s\S]*<asset kind="POSITIONING">/);

    for (const asset of campaign.assets) {
      expect(asset).toMatchObject({ state: 'READY', version: 1, provider: 'openai', model: 'gpt-5-mini-2025-08-07', weak: expect.any(Boolean) });
      expect(asset.sources.length).toBeGreaterThan(0);
    }
  });

  it('shows the assets being built as GENERATING while the run is on, and runs two campaigns\' generations side by side', async () => {
    // Different notes, so the two runs' prompts differ (identical calls in flight would be shared).
    const [first, second] = [await newCampaign('First campaign.'), await newCampaign('Second campaign.')];
    // Each campaign's first call waits for the other's to arrive before it answers: if one campaign's
    // generation waited for the other's, the first call would wait in vain and say so.
    let arrived = 0;
    let bothArrived!: () => void;
    const together = new Promise<void>((resolve) => (bothArrived = resolve));
    const met: boolean[] = [];
    // The first calls answer only once the test has looked at the assets: what it sees must not
    // depend on how quickly a busy machine gets to the query.
    let release!: () => void;
    const looked = new Promise<void>((resolve) => (release = resolve));
    const meetTheOther = async (request: FakeLlmRequest): Promise<FakeLlmReply> => {
      arrived += 1;
      if (arrived === 2) bothArrived();
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000).unref());
      met.push(await Promise.race([together.then(() => true), timeout]));
      await looked;
      return respond(request);
    };
    openAi.enqueue(meetTheOther, meetTheOther);
    const running = Promise.all([generate(first, 'TARGET_COMPANY'), generate(second, 'TARGET_COMPANY')]);
    let seen: string[] = [];
    for (let attempt = 0; attempt < 250 && !(seen[0] === 'GENERATING' && seen[1] === 'GENERATING'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = (await gql(`query ($id: ID!) { campaign(id: $id) { assets { state } } }`, { id: first })).data!['campaign'].assets.map((asset: { state: string }) => asset.state);
    }
    release();
    expect(seen.slice(0, 2)).toEqual(['GENERATING', 'GENERATING']);
    const [one, two] = await running;
    expect([statusOf(one, 'TARGET_COMPANY').state, statusOf(two, 'TARGET_COMPANY').state]).toEqual(['READY', 'READY']);
    // Each campaign's calls are a chain, but nothing serialises one campaign behind the other.
    expect(openAi.requests.slice(0, 2).map(taskOf)).toEqual(['product-overview', 'product-overview']);
    expect(met).toEqual([true, true]);
  });

  it('drops a quote the website does not contain and lowers the asset\'s confidence', async () => {
    const honest = statusOf(await generate(await newCampaign(), 'PRODUCT_OVERVIEW'), 'PRODUCT_OVERVIEW');
    const lying = statusOf(await generate(await newCampaign(`Note: ${lieMarker}.`), 'PRODUCT_OVERVIEW'), 'PRODUCT_OVERVIEW');
    expect(openAi.requests.at(-1)!.prompt).toContain(lieMarker);
    expect(lying.sources.map((source) => source.quote)).not.toContain(inventedQuote);
    expect(lying.sources).toEqual(honest.sources);
    expect(lying.warnings).toContain('1 quoted source(s) are not on the website and were dropped.');
    expect(lying.confidence!).toBeLessThan(honest.confidence!);
  });

  it('passes generateAsset\'s instructions to the model and records them', async () => {
    const id = await newCampaign();
    const campaign = await generate(id, 'POSITIONING', 'Lead with the days saved at month end.');
    const positioningRequest = openAi.requests.find((request) => taskOf(request) === 'positioning')!;
    expect(positioningRequest.prompt).toContain('<instructions>\nLead with the days saved at month end.\n</instructions>');
    // Only the asset asked for follows them; its prerequisites were built without.
    expect(openAi.requests.find((request) => taskOf(request) === 'product-overview')!.prompt).not.toContain('<instructions>');
    expect(statusOf(campaign, 'POSITIONING').instructions).toBe('Lead with the days saved at month end.');
  });

  it('rebuilds an offline answer with the model once the model answers again', async () => {
    const id = await newCampaign();
    // The model fails for the first asset; the offline provider answers instead.
    openAi.enqueue({ status: 500 });
    const first = await generate(id, 'PRODUCT_OVERVIEW');
    expect(statusOf(first, 'PRODUCT_OVERVIEW')).toMatchObject({ provider: 'offline', weak: true, version: 1 });

    openAi.reset();
    const second = await generate(id, 'TARGET_COMPANY');
    expect(openAi.requests.map(taskOf)).toEqual(['product-overview', 'target-company']);
    expect(statusOf(second, 'PRODUCT_OVERVIEW')).toMatchObject({ provider: 'openai', version: 2 });
    expect(statusOf(second, 'TARGET_COMPANY').basedOn).toEqual([{ kind: 'PRODUCT_OVERVIEW', version: 2 }]);
  });

  it('meters every model call for the caller\'s tenant', async () => {
    const id = await newCampaign();
    await generate(id, 'TARGET_COMPANY');
    const client = new pg.Client({ connectionString: stack.setup.environment['DATABASE_URL'] });
    await client.connect();
    const { rows } = await client.query<{ id: string }>(`select id from gateway.tenant where slug = 'e2e'`);
    await client.end();
    // Services write the usage stream under the stack's Redis prefix, where its gateway reads it.
    const redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: stack.redisKeyPrefix });
    await redis.connect();
    try {
      const entries = await redis.xrevrange(llmUsageStreamKey, '+', '-', 'COUNT', 2000);
      const events = entries.map(([, fields]) => llmUsageEventSchema.parse(JSON.parse(fields[1]!))).filter((event) => event.tenantId === rows[0]!.id && event.service === 'campaign-service');
      expect(events.map((event) => event.task)).toEqual(expect.arrayContaining(['campaign.product-overview', 'campaign.target-company']));
      // A call shared with an identical one in flight is metered too, as cached and free.
      expect(events.every((event) => event.provider === 'openai' && (event.cached || event.inputTokens > 0) && event.requestId !== null)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

describe('a generateCampaign job with a model', () => {
  it('builds every asset on the campaign worker, each once, metered to the key and request that asked for it', async () => {
    const id = await newCampaign();
    const before = openAi.requests.length;
    const started = await gql(`mutation ($id: ID!) { generateCampaign(campaignId: $id) { id total } }`, { id });
    expect(started.errors).toBeUndefined();
    const jobId = started.data!['generateCampaign'].id;
    let job: Record<string, any>;
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = (await gql(`query ($id: ID!) { campaignJob(id: $id) { status completed message } }`, { id: jobId })).data!['campaignJob'];
    } while (job['status'] === 'QUEUED' || job['status'] === 'RUNNING');
    expect(job).toEqual({ status: 'SUCCEEDED', completed: 5, message: 'Built PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA, POSITIONING, EMAIL_SEQUENCE.' });
    const campaign = (await gql(`query ($id: ID!) { campaign(id: $id) { assets { state provider version } } }`, { id })).data!['campaign'];
    expect(campaign.assets).toEqual(Array.from({ length: 5 }, () => ({ state: 'READY', provider: 'openai', version: 1 })));
    expect(openAi.requests.slice(before).map(taskOf)).toEqual(['product-overview', 'target-company', 'target-persona', 'positioning', 'email-sequence']);

    const redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: stack.redisKeyPrefix });
    await redis.connect();
    try {
      const entries = await redis.xrevrange(llmUsageStreamKey, '+', '-', 'COUNT', 2000);
      const events = entries.map(([, fields]) => llmUsageEventSchema.parse(JSON.parse(fields[1]!))).filter((event) => event.task === 'campaign.email-sequence');
      // Newest first: this job's call. The worker made it after the request had ended; it still names who asked.
      expect(events[0]).toMatchObject({ service: 'campaign-service', provider: 'openai', apiKeyId: expect.any(String), requestId: expect.any(String) });
    } finally {
      redis.disconnect();
    }
  });
});

describe('corrections with a model', () => {
  let id: string;

  beforeAll(async () => {
    id = await newCampaign();
    await generate(id, 'EMAIL_SEQUENCE');
  });

  it('rewrites one section following the instructions, as a new version, and marks what is built on it STALE', async () => {
    const before = (await gql(`query ($id: ID!) { campaign(id: $id) { positioning { uniqueInsight valuePropositions { theme } competitiveAlternatives } } }`, { id })).data!['campaign'].positioning;
    const result = await gql(correctAsset, { input: { campaignId: id, kind: 'POSITIONING', scope: 'SECTION', fieldPath: 'differentiators', instructions: 'Say it with the close time.' } });
    expect(result.errors).toBeUndefined();
    const campaign = result.data!['correctAsset'];
    const request = openAi.requests.at(-1)!;
    expect(taskOf(request)).toBe('section-rewrite');
    expect(request.prompt).toContain('Rewrite the section "differentiators" of the POSITIONING asset');
    expect(request.prompt).toContain('Say it with the close time.');
    expect(campaign.positioning).toMatchObject({ ...before, differentiators: ['Closes the books in three days, not three weeks'] });
    // The section's instructions are the correction's: the asset's own (none) are what a rebuild follows.
    expect(statusOf(campaign, 'POSITIONING')).toMatchObject({ version: 2, origin: 'SECTION_CORRECTION', provider: 'openai', instructions: null });
    expect(statusOf(campaign, 'EMAIL_SEQUENCE')).toMatchObject({ state: 'STALE', staleReason: 'POSITIONING was corrected (version 2).' });
    expect(campaign.corrections.at(-1)).toMatchObject({ kind: 'POSITIONING', scope: 'SECTION', fieldPath: 'differentiators', instructions: 'Say it with the close time.', beforeVersion: 1, afterVersion: 2, staleKinds: ['EMAIL_SEQUENCE'] });
  });

  it('regenerates an asset following global instructions, and rebuilds what went stale when asked', async () => {
    const result = await gql(correctAsset, { input: { campaignId: id, kind: 'TARGET_PERSONA', scope: 'GLOBAL', instructions: 'Write to the CFO, not the controller.', regenerateStale: true } });
    expect(result.errors).toBeUndefined();
    const campaign = result.data!['correctAsset'];
    const tasks = openAi.requests.map(taskOf);
    expect(tasks).toEqual(['target-persona', 'positioning', 'email-sequence']);
    expect(openAi.requests[0]!.prompt).toContain('Write to the CFO, not the controller.');
    // Rebuilt because the persona changed, the dependents follow neither the persona's instructions
    // nor the instructions of the positioning's section rewrite.
    expect(openAi.requests[1]!.prompt).not.toContain('<instructions>');
    expect(statusOf(campaign, 'TARGET_PERSONA')).toMatchObject({ version: 2, origin: 'GLOBAL_CORRECTION', state: 'READY' });
    expect(statusOf(campaign, 'POSITIONING')).toMatchObject({ version: 3, state: 'READY' });
    expect(statusOf(campaign, 'EMAIL_SEQUENCE')).toMatchObject({ version: 2, state: 'READY' });
    expect(campaign.corrections.at(-1)).toMatchObject({ kind: 'TARGET_PERSONA', scope: 'GLOBAL', instructions: 'Write to the CFO, not the controller.', beforeVersion: 1, afterVersion: 2, staleKinds: ['POSITIONING', 'EMAIL_SEQUENCE'] });
  });
});
