// generateCampaign on the campaign service's job worker, with its real PostgreSQL, Redis and
// graphile-worker, and a local server speaking OpenAI's protocol through the real SDK. The website
// context is what a request gathers from content-service (which a campaign-service test may not
// start: tools/check-boundaries.ts), built from a real website capture; e2e/src covers the stack.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { JobStatus } from '@gtm/jobs';
import {
  createSubgraphClient,
  createSubgraphTestSetup,
  createTestCaller,
  exampleFromJsonSchema,
  startFakeOpenAiServer,
  uniqueRedisPrefix,
  type FakeLlmReply,
  type FakeLlmRequest,
  type FakeLlmServer,
  type SubgraphTestSetup,
} from '@gtm/testing';
import { createApp, type CampaignApp } from '../app.js';
import { assetKinds } from '../assets/index.js';
import { loadCapture } from '../assets/website-captures.fixture.js';
import { CampaignAssetVersion } from '../campaign-asset/campaign-asset.entity.js';
import { loadConfig } from '../config.js';
import { gatheredWebsiteContext } from '../website/website-context.js';
import { capturedWebsiteContext } from '../website/website-context.fixture.js';

const capture = loadCapture('blossomer.io');
const website = capturedWebsiteContext('blossomer.io', 'Blossomer');

/** A schema-valid answer that cites the first passage of its prompt, as a model would. */
function answer(request: FakeLlmRequest): FakeLlmReply {
  const object = exampleFromJsonSchema(request.schema ?? {}) as { sources?: { url: string; quote: string }[] };
  const passage = /<passage index="\d+" url="([^"]+)" heading="[^"]*">\n([\s\S]*?)\n<\/passage>/.exec(request.prompt);
  if (passage) object.sources = [{ url: passage[1]!, quote: passage[2]!.trim().slice(0, 60) }];
  return { json: object };
}

/** The asset a model request is for, from the schema it asks the answer to follow. */
function kindOf(request: FakeLlmRequest): string {
  const properties = Object.keys((request.schema as { properties?: object } | undefined)?.properties ?? {});
  if (properties.includes('emails')) return 'EMAIL_SEQUENCE';
  if (properties.includes('valuePropositions')) return 'POSITIONING';
  if (properties.includes('jobTitles')) return 'TARGET_PERSONA';
  if (properties.includes('firmographics')) return 'TARGET_COMPANY';
  return 'PRODUCT_OVERVIEW';
}

let setup: SubgraphTestSetup;
let model: FakeLlmServer;
let environment: Record<string, string>;
const apps: CampaignApp[] = [];
/** Every SQL statement of the apps started, for the tests that look at what is read. */
const queries: string[] = [];

beforeAll(async () => {
  [setup, model] = await Promise.all([createSubgraphTestSetup(), startFakeOpenAiServer({ respond: answer })]);
  environment = {
    ...setup.environment,
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    LLM_PROVIDERS: 'openai',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: model.baseURL,
    LLM_CACHE_TTL_SECONDS: '0',
    LLM_MAX_RETRIES: '0',
  };
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  model.respondWith(answer);
  model.reset();
});

afterAll(async () => {
  await model?.close();
  await setup?.dispose();
});

async function startApp(): Promise<{ app: CampaignApp; call: ReturnType<typeof createSubgraphClient> }> {
  const app = await createApp(loadConfig(environment), { onQuery: (sql) => queries.push(sql), websiteFor: () => gatheredWebsiteContext(website), jobWorker: { pollIntervalMs: 100, shutdownAbortAfterMs: 200 } });
  apps.push(app);
  return { app, call: createSubgraphClient(app.url, setup.callerKeys.signer) };
}

const jobFields = 'id status kinds steps { kind reason } total completed failed percent message startedAt finishedAt';

async function newCampaign(call: ReturnType<typeof createSubgraphClient>, caller: ReturnType<typeof createTestCaller>): Promise<string> {
  const created = await call(caller, `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, { input: { websiteUrl: capture.url } });
  return created.data!['createCampaign'].id as string;
}

async function readJob(call: ReturnType<typeof createSubgraphClient>, caller: ReturnType<typeof createTestCaller>, id: string) {
  const read = await call(caller, `query ($id: ID!) { campaignJob(id: $id) { ${jobFields} } }`, { id });
  expect(read.errors).toBeUndefined();
  return read.data!['campaignJob'];
}

/** Reads the job every 50 ms until `until` holds for it. */
async function waitForJob(call: ReturnType<typeof createSubgraphClient>, caller: ReturnType<typeof createTestCaller>, id: string, until = (job: any) => [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED].includes(job.status)) {
  for (;;) {
    const job = await readJob(call, caller, id);
    if (until(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every version stored for the campaign, as `KIND:version` in build order. */
async function versionsOf(app: CampaignApp, tenantId: string, campaignId: string): Promise<string[]> {
  const versions = await app.database.forkForTenant(tenantId).find(CampaignAssetVersion, { campaignId }, { orderBy: { createdAt: 'asc', version: 'asc' } });
  return versions.map((version) => `${version.kind}:${version.version}`);
}

const allBuiltOnce = assetKinds.map((kind) => `${kind}:1`);

describe('generateCampaign on the job worker', () => {
  it('builds every asset in build order, each once, with the model, and says so', async () => {
    const { app, call } = await startApp();
    const caller = createTestCaller();
    const campaignId = await newCampaign(call, caller);
    const started = await call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { ${jobFields} campaign { id } } }`, { id: campaignId });
    expect(started.errors).toBeUndefined();
    expect(started.data!['generateCampaign']).toMatchObject({
      status: 'QUEUED',
      total: 5,
      steps: assetKinds.map((kind) => ({ kind, reason: 'MISSING' })),
      campaign: { id: campaignId },
    });

    const finished = await waitForJob(call, caller, started.data!['generateCampaign'].id);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', completed: 5, failed: 0, percent: 100, message: `Built ${assetKinds.join(', ')}.` });
    expect(await versionsOf(app, caller.tenantId, campaignId)).toEqual(allBuiltOnce);
    expect(model.requests.map(kindOf)).toEqual([...assetKinds]);
    queries.length = 0;
    const campaign = await call(caller, `query ($id: ID!) { campaign(id: $id) { assets { kind state provider basedOn { kind version } } jobs { id } } }`, { id: campaignId });
    // The job's stored website context (tens of kilobytes) is the worker's: a listing never reads it.
    const jobQueries = queries.filter((sql) => sql.includes('campaign_job'));
    expect(jobQueries).toHaveLength(1);
    expect(jobQueries[0]).toMatch(/"c0"\."campaign_id"/);
    expect(jobQueries[0]).not.toMatch(/website|"c0"\.\*/);
    expect(campaign.data!['campaign'].assets.map((asset: { state: string; provider: string }) => `${asset.state}/${asset.provider}`)).toEqual(assetKinds.map(() => 'READY/openai'));
    expect(campaign.data!['campaign'].jobs).toEqual([{ id: finished.id }]);
  });

  it('waits out a model that is down: the attempt fails, and the retry resumes at the step that failed', async () => {
    const { app, call } = await startApp();
    const caller = createTestCaller();
    const campaignId = await newCampaign(call, caller);
    // The third call (the persona) meets a model that is down; every call after it is answered.
    let calls = 0;
    model.respondWith((request) => (++calls === 3 ? { status: 503, message: 'overloaded' } : answer(request)));
    const started = await call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id: campaignId });
    const jobId = started.data!['generateCampaign'].id;
    const retrying = await waitForJob(call, caller, jobId, (job) => job.message?.includes('retrying') || ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status));
    expect(retrying).toMatchObject({ status: 'RUNNING', completed: 2 });

    const finished = await waitForJob(call, caller, jobId);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', completed: 5, failed: 0 });
    expect(await versionsOf(app, caller.tenantId, campaignId)).toEqual(allBuiltOnce);
    // Five answers and the one refused: nothing built twice.
    expect(model.requests.map(kindOf)).toEqual(['PRODUCT_OVERVIEW', 'TARGET_COMPANY', 'TARGET_PERSONA', 'TARGET_PERSONA', 'POSITIONING', 'EMAIL_SEQUENCE']);
  });

  it('fails a step the model refuses for good, skips what is built on it, and ends FAILED saying why', async () => {
    const { call } = await startApp();
    const caller = createTestCaller();
    const campaignId = await newCampaign(call, caller);
    // A 400 is the request's fault: no retry helps.
    model.respondWith((request) => (kindOf(request) === 'TARGET_PERSONA' ? { status: 400, message: 'bad request' } : answer(request)));
    const started = await call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id: campaignId });
    const finished = await waitForJob(call, caller, started.data!['generateCampaign'].id);
    expect(finished).toMatchObject({ status: 'FAILED', completed: 2, failed: 3 });
    expect(finished.message).toMatch(/^No language model could generate TARGET_PERSONA \(openai: LLM_PROVIDER_ERROR\)\. Try again later\. Not built: TARGET_PERSONA, which it is built on, could not be built\.$/);
    const campaign = await call(caller, `query ($id: ID!) { campaign(id: $id) { assets { kind state error } } }`, { id: campaignId });
    expect(campaign.data!['campaign'].assets.map((asset: { kind: string; state: string }) => `${asset.kind}:${asset.state}`)).toEqual([
      'PRODUCT_OVERVIEW:READY',
      'TARGET_COMPANY:READY',
      'TARGET_PERSONA:FAILED',
      'POSITIONING:FAILED',
      'EMAIL_SEQUENCE:FAILED',
    ]);
    expect(model.requests.filter((request) => kindOf(request) === 'TARGET_PERSONA')).toHaveLength(1);
  });

  it('resumes after the service restarts in the middle of a job, building nothing twice', async () => {
    const first = await startApp();
    const caller = createTestCaller();
    const campaignId = await newCampaign(first.call, caller);
    // A slow model: the restart finds a step in flight.
    model.respondWith((request) => ({ ...answer(request), delayMs: 400 }));
    const started = await first.call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id: campaignId });
    const jobId = started.data!['generateCampaign'].id;
    const midway = await waitForJob(first.call, caller, jobId, (job) => job.completed >= 2);
    expect(midway).toMatchObject({ status: 'RUNNING' });
    await first.app.close();
    apps.splice(apps.indexOf(first.app), 1);
    const callsBeforeRestart = model.requests.length;

    const second = await startApp();
    const finished = await waitForJob(second.call, caller, jobId);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', completed: 5, failed: 0 });
    expect(await versionsOf(second.app, caller.tenantId, campaignId)).toEqual(allBuiltOnce);
    // The step cut short by the restart was asked again; the steps stored before it were not.
    const askedAfter = model.requests.slice(callsBeforeRestart).map(kindOf);
    expect(askedAfter).toEqual(assetKinds.slice(assetKinds.length - askedAfter.length));
    expect(model.requests.map(kindOf).filter((kind) => kind === 'PRODUCT_OVERVIEW')).toHaveLength(1);
  });

  it('stops on cancelCampaignJob: the step in flight is not stored, and what was not built says so', async () => {
    const { app, call } = await startApp();
    const caller = createTestCaller();
    const campaignId = await newCampaign(call, caller);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The second call is held until the job is cancelled.
    model.respondWith(async (request) => {
      if (kindOf(request) === 'TARGET_COMPANY') await held;
      return answer(request);
    });
    const started = await call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id: campaignId });
    const jobId = started.data!['generateCampaign'].id;
    await waitForJob(call, caller, jobId, (job) => job.completed === 1 && job.message?.startsWith('Building TARGET_COMPANY'));

    const cancelled = await call(caller, `mutation ($id: ID!) { cancelCampaignJob(id: $id) { status message } }`, { id: jobId });
    expect(cancelled.data!['cancelCampaignJob']).toEqual({ status: 'CANCELLED', message: 'Cancelled.' });
    release();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await readJob(call, caller, jobId)).toMatchObject({ status: 'CANCELLED', completed: 1 });
    expect(await versionsOf(app, caller.tenantId, campaignId)).toEqual(['PRODUCT_OVERVIEW:1']);
    const campaign = await call(caller, `query ($id: ID!) { campaign(id: $id) { assets { kind state error } } }`, { id: campaignId });
    expect(campaign.data!['campaign'].assets[1]).toEqual({ kind: 'TARGET_COMPANY', state: 'FAILED', error: 'Not built: the generateCampaign job was cancelled.' });
    // The persona's call may have started beside the company's commit, which found the job
    // cancelled and aborted it; nothing after it was asked.
    expect(model.requests.map(kindOf).slice(0, 2)).toEqual(['PRODUCT_OVERVIEW', 'TARGET_COMPANY']);
    expect(model.requests.slice(2).map(kindOf)).toEqual(model.requests.length > 2 ? ['TARGET_PERSONA'] : []);
  });

  it('answers the same request, while its job is still on, with that job; a different one queues behind it and pays for nothing built meanwhile', async () => {
    const { app, call } = await startApp();
    const caller = createTestCaller();
    const campaignId = await newCampaign(call, caller);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    model.respondWith(async (request) => {
      await held;
      return answer(request);
    });
    const generate = (kinds: string[] | null) => call(caller, `mutation ($id: ID!, $kinds: [AssetKind!]) { generateCampaign(campaignId: $id, kinds: $kinds) { id steps { kind reason } } }`, { id: campaignId, kinds });
    const first = (await generate(null)).data!['generateCampaign'];
    const again = (await generate(null)).data!['generateCampaign'];
    expect(again.id).toBe(first.id);
    // Planned while the first is on: its assets read GENERATING, so all four are planned again.
    const behind = (await generate(['POSITIONING'])).data!['generateCampaign'];
    expect(behind.id).not.toBe(first.id);
    expect(behind.steps.map((step: { kind: string }) => step.kind)).toEqual(['PRODUCT_OVERVIEW', 'TARGET_COMPANY', 'TARGET_PERSONA', 'POSITIONING']);
    release();

    expect(await waitForJob(call, caller, first.id)).toMatchObject({ status: 'SUCCEEDED', completed: 5 });
    const second = await waitForJob(call, caller, behind.id);
    expect(second).toMatchObject({
      status: 'SUCCEEDED',
      completed: 4,
      message: 'Nothing to build: PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA, POSITIONING were built by another run meanwhile.',
    });
    expect(model.requests).toHaveLength(5);
    expect(await versionsOf(app, caller.tenantId, campaignId)).toEqual(allBuiltOnce);
  });

  it('keeps the jobs of a campaign to its tenant', async () => {
    const { call } = await startApp();
    const owner = createTestCaller();
    const campaignId = await newCampaign(call, owner);
    const started = await call(owner, `mutation ($id: ID!) { generateCampaign(campaignId: $id, kinds: [PRODUCT_OVERVIEW]) { id } }`, { id: campaignId });
    const jobId = started.data!['generateCampaign'].id;
    await waitForJob(call, owner, jobId);
    const other = createTestCaller();
    expect((await call(other, `query ($id: ID!) { campaignJob(id: $id) { id } }`, { id: jobId })).data).toEqual({ campaignJob: null });
    const cancel = await call(other, `mutation ($id: ID!) { cancelCampaignJob(id: $id) { id } }`, { id: jobId });
    expect(cancel.errors?.[0]).toMatchObject({ message: `CampaignJob ${jobId} was not found.`, extensions: { code: 'NOT_FOUND' } });
    const generate = await call(other, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id: campaignId });
    expect(generate.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    // An id that is no UUID at all is no campaign either: NOT_FOUND, not an internal error.
    for (const [mutation, type] of [
      ['mutation { generateCampaign(campaignId: "campaign-1") { id } }', 'Campaign'],
      ['mutation { cancelCampaignJob(id: "campaign-1") { id } }', 'CampaignJob'],
    ] as const) {
      const result = await call(owner, mutation);
      expect(result.errors?.[0]).toMatchObject({ message: `${type} campaign-1 was not found.`, extensions: { code: 'NOT_FOUND' } });
    }
  });
});
