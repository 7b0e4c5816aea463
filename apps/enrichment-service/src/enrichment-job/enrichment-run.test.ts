// Running enrichment jobs in the enrichment subgraph alone (no content-service): the WEBSITE and
// QUALIFICATION steps on rows of the dealer register against a fake Serper and a fake OpenAI, and
// what happens at a budget, with a model that answers garbage, a search that times out, a campaign
// that cannot be read, and a job created without the gateway's delegated token.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { callerDelegationHeader, callerTokenHeader, createCallerTokenSigner } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import {
  createTestCaller,
  leadSiteFixture,
  postGraphQL,
  startCompanySites,
  startFakeOpenAiServer,
  startFakeSerperServer,
  startSubgraphUnderTest,
  type CompanySitesServer,
  type FakeLlmReply,
  type FakeLlmRequest,
  type FakeLlmServer,
  type FakeSearchServer,
  type SubgraphUnderTest,
} from '@gtm/testing';
import { parse } from 'csv-parse/sync';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

const dealers = (parse(readFileSync(new URL('../../../../fixtures/leads/florida-dealers-10k.csv', import.meta.url)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>).slice(300, 320);
const record = (row: Record<string, string>) => ({
  companyName: row['DEALER NAME'],
  address: row['LOCATION ADDRESS'],
  city: row['LOCATION CITY'],
  state: row['STATE'],
  postalCode: row['LOC ZIP'],
  phone: row['PHONE'],
  fields: { COUNTY: row['COUNTY'], 'LIC NUMBER': row['LIC NUMBER'], 'Dealer Website URL': '' },
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let sites: CompanySitesServer;
let serper: FakeSearchServer;
let openAi: FakeLlmServer;
let subgraph: SubgraphUnderTest<SubgraphApp>;
/** Dealers whose qualification the model answers with garbage. */
const garbageFor = new Set<string>();

function respond(request: FakeLlmRequest): FakeLlmReply {
  // Every turn of the conversation, so the corrective re-ask gets garbage too.
  if ([...garbageFor].some((name) => request.messages.some((message) => message.content.includes(name)))) return { text: 'I think this company is great!!! (not JSON)' };
  const score = Number(/A rule-based score would be (\d+)/.exec(request.prompt)?.[1] ?? 50);
  return { json: { score, reasoning: `Scored ${score} from the measured signals.`, confidence: 0.8, signals: ['Measured signals'] } };
}

beforeAll(async () => {
  sites = await startCompanySites();
  const documents = dealers.flatMap((row) => {
    const fixture = leadSiteFixture(
      { name: row['DEALER NAME']!, address: row['LOCATION ADDRESS']!, city: row['LOCATION CITY']!, state: row['STATE']!, zip: row['LOC ZIP']!, phone: row['PHONE']!, key: row['LIC NUMBER']! },
      { origin: sites.origin },
    );
    sites.add(fixture.sites);
    return fixture.documents;
  });
  serper = await startFakeSerperServer({ documents });
  openAi = await startFakeOpenAiServer({ respond });
  const campaignService = `http://127.0.0.1:${await closedPort()}/graphql`;
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(
      loadConfig({
        ...environment,
        SERPER_API_KEY: 'serper-key',
        SERPER_BASE_URL: serper.url,
        SEARCH_TIMEOUT_MS: '400',
        SEARCH_MAX_RETRIES: '0',
        LLM_PROVIDERS: 'openai,offline',
        OPENAI_API_KEY: 'openai-key',
        OPENAI_BASE_URL: `${openAi.baseURL}`,
        OPENAI_MODEL: 'gpt-5-mini',
        LLM_MAX_RETRIES: '0',
        // Redis outlives the test: a cached answer of an earlier run would cost nothing and hide the model.
        LLM_CACHE_TTL_SECONDS: '0',
        CONTENT_FETCH_ALLOWLIST: sites.allowlist().join(','),
        CAMPAIGN_SERVICE_URL: campaignService,
        ENRICHMENT_JOB_MAX_ATTEMPTS: '1',
      }),
      { onQuery, resolveHost: (hostname) => sites.resolveHost(hostname) },
    ),
  );
}, 60_000);

afterAll(async () => {
  await subgraph?.close();
  await Promise.all([sites?.close(), serper?.close(), openAi?.close()]);
});

const recordFields = 'position status input website websiteSource costUsd failureReason qualification { score tier provider basis confidence } steps { step status note costUsd durationMs }';

async function run(input: Record<string, unknown>, caller = createTestCaller()) {
  const created = await subgraph.call(caller, `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id steps budgetUsdPerRecord } }`, { input });
  expect(created.errors).toBeUndefined();
  return finish(caller, created.data!['createEnrichmentJob'].id);
}

async function finish(caller: ReturnType<typeof createTestCaller>, jobId: string) {
  for (;;) {
    const read = await subgraph.call(caller, `query ($id: ID!) { enrichmentJob(id: $id) { id status completed failed costUsd message records(first: 20) { edges { node { ${recordFields} } } } } }`, { id: jobId });
    expect(read.errors).toBeUndefined();
    const job = read.data!['enrichmentJob'];
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return { ...job, records: job.records.edges.map((edge: { node: unknown }) => edge.node) as any[] };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a record’s budget', () => {
  it('makes no search the budget cannot pay for', async () => {
    const searches = serper.requests.length;
    const job = await run({ name: 'no budget', records: [record(dealers[0]!)], steps: ['WEBSITE', 'QUALIFICATION'], budgetUsdPerRecord: 0 });
    expect(serper.requests.length).toBe(searches);
    expect(job.records[0]).toMatchObject({ status: 'FAILED', costUsd: 0, failureReason: expect.stringMatching(/A web search \(\$0\.001\) would go over the record's budget\./) });
    expect(job.records[0].steps[0]).toMatchObject({ step: 'WEBSITE', status: 'OVER_BUDGET', costUsd: 0 });
  });

  it('pays for the search, then scores by rules when a model call would go over', async () => {
    const calls = openAi.requests.length;
    const job = await run({ name: 'search budget', records: [record(dealers[1]!)], steps: ['WEBSITE', 'QUALIFICATION'], budgetUsdPerRecord: 0.001 });
    expect(openAi.requests.length).toBe(calls);
    expect(job.records[0]).toMatchObject({ status: 'ENRICHED', websiteSource: 'SEARCH', costUsd: 0.001, qualification: { provider: 'offline', basis: 'DATA' } });
    expect(job.records[0].qualification.confidence).toBeLessThanOrEqual(0.3);
    expect(job.records[0].steps).toEqual([
      expect.objectContaining({ step: 'WEBSITE', status: 'DONE', costUsd: 0.001 }),
      expect.objectContaining({ step: 'QUALIFICATION', status: 'DONE', costUsd: 0, note: 'Scored by rules: a model call would go over the record’s budget.' }),
    ]);
  });

  it('asks the model when the budget allows, and records its tokens’ cost', async () => {
    const job = await run({ name: 'enough budget', records: [record(dealers[2]!)], steps: ['WEBSITE', 'QUALIFICATION'], budgetUsdPerRecord: 0.02 });
    expect(job.records[0].qualification).toMatchObject({ provider: 'openai', basis: 'DATA', confidence: 0.8 });
    expect(job.records[0].costUsd).toBeGreaterThan(0.001);
    expect(job.records[0].costUsd).toBeLessThan(0.02);
    expect(job.costUsd).toBe(job.records[0].costUsd);
  });
});

describe('providers that fail', () => {
  it('falls back to the offline, rule-based score when the model answers garbage, and the job goes on', async () => {
    garbageFor.add(dealers[3]!['DEALER NAME']!);
    const job = await run({ name: 'garbage', records: [record(dealers[3]!), record(dealers[4]!)], steps: ['WEBSITE', 'QUALIFICATION'] });
    expect(job).toMatchObject({ status: 'SUCCEEDED', completed: 2, failed: 0 });
    expect(job.records[0].qualification).toMatchObject({ provider: 'offline' });
    expect(job.records[1].qualification).toMatchObject({ provider: 'openai' });
  });

  it('fails a record whose search timed out with a reason, and enriches the others', async () => {
    serper.enqueue({ results: [], delayMs: 1_500 });
    const job = await run({ name: 'slow search', records: [record(dealers[5]!)], steps: ['WEBSITE', 'QUALIFICATION'] });
    expect(job).toMatchObject({ status: 'SUCCEEDED', failed: 1 });
    expect(job.records[0]).toMatchObject({ status: 'FAILED', failureReason: 'serper did not answer within 0.4 s. The record was not searched for.' });
    const after = await run({ name: 'after the slow search', records: [record(dealers[6]!)], steps: ['WEBSITE'] });
    expect(after.records[0]).toMatchObject({ status: 'ENRICHED', websiteSource: 'SEARCH' });
  });
});

describe('what a job is created with', () => {
  it('keeps the row verbatim and shows the steps it runs, with what they need', async () => {
    const caller = createTestCaller();
    const created = await subgraph.call(caller, `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id steps budgetUsdPerRecord } }`, {
      input: { name: 'contacts only', records: [record(dealers[7]!)], steps: ['CONTACTS'], budgetUsdPerRecord: 0.01 },
    });
    expect(created.data!['createEnrichmentJob']).toMatchObject({ steps: ['WEBSITE_ANALYSIS', 'CONTACTS'], budgetUsdPerRecord: 0.01 });
    const job = await finish(caller, created.data!['createEnrichmentJob'].id);
    expect(job.records[0].input).toEqual({ ...record(dealers[7]!).fields, companyName: dealers[7]!['DEALER NAME'], address: dealers[7]!['LOCATION ADDRESS'], city: dealers[7]!['LOCATION CITY'], state: 'FL', postalCode: dealers[7]!['LOC ZIP'], phone: dealers[7]!['PHONE'] });
  });

  it('says a job without the gateway’s delegated token cannot analyse websites, and refuses another tenant’s token', async () => {
    const caller = createTestCaller();
    const withoutToken = await run({ name: 'no delegation', records: [record(dealers[8]!)], steps: ['WEBSITE', 'WEBSITE_ANALYSIS', 'QUALIFICATION'] }, caller);
    expect(withoutToken.records[0]).toMatchObject({ status: 'PARTIAL' });
    expect(withoutToken.records[0].steps.find((step: { step: string }) => step.step === 'WEBSITE_ANALYSIS')).toMatchObject({
      status: 'FAILED',
      note: expect.stringMatching(/created without an authorisation to call content-service/),
    });

    const delegation = await createCallerTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem, ttlSeconds: 3_600, delegated: true });
    const created = await postGraphQL(
      subgraph.app.url,
      { query: `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`, variables: { input: { name: 'foreign token', records: [record(dealers[8]!)], steps: ['WEBSITE', 'WEBSITE_ANALYSIS'] } } },
      { [callerTokenHeader]: await subgraph.callerKeys.signer.sign(caller), [callerDelegationHeader]: await delegation.sign(createTestCaller()) },
    );
    expect(created.errors).toBeUndefined();
    const foreign = await finish(caller, created.data!['createEnrichmentJob'].id);
    expect(foreign.records[0].steps.find((step: { step: string }) => step.step === 'WEBSITE_ANALYSIS')).toMatchObject({ status: 'FAILED', note: expect.stringMatching(/created without an authorisation/) });
    const stored = await subgraph.app.database.orm.em.getConnection().execute(`select delegated_caller_token from enrichment.enrichment_job where id = ?`, [foreign.id]);
    expect(stored).toEqual([{ delegated_caller_token: null }]);
  });

  it('keeps a delegated token sealed at rest, never as it was sent', async () => {
    const caller = createTestCaller();
    const delegation = await createCallerTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem, ttlSeconds: 3_600, delegated: true });
    const token = await delegation.sign(caller);
    const created = await postGraphQL(
      subgraph.app.url,
      { query: `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`, variables: { input: { name: 'sealed', total: 3 } } },
      { [callerTokenHeader]: await subgraph.callerKeys.signer.sign(caller), [callerDelegationHeader]: token },
    );
    const [row] = await subgraph.app.database.orm.em.getConnection().execute<Array<{ delegated_caller_token: string }>>(`select delegated_caller_token from enrichment.enrichment_job where id = ?`, [created.data!['createEnrichmentJob'].id]);
    expect(row!.delegated_caller_token).toMatch(/^v1\./);
    expect(row!.delegated_caller_token).not.toContain(token.split('.')[1]);
  });

  it('refuses a campaign id that is not one, and creates nothing when campaign-service cannot be asked', async () => {
    const caller = createTestCaller();
    const create = (campaignId: string) => subgraph.call(caller, `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`, { input: { name: 'with campaign', records: [record(dealers[9]!)], campaignId } });
    const notAnId = await create('campaign-1');
    expect(notAnId.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'campaignId' }, message: expect.stringMatching(/^No campaign campaign-1 in your workspace/) });
    const unreachable = await create(randomUUID());
    expect(unreachable.errors?.[0]).toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' }, message: expect.stringMatching(/nothing was created/) });
    const listed = await subgraph.call(caller, `{ enrichmentJobs { edges { node { id } } } }`);
    expect(listed.data!['enrichmentJobs'].edges).toEqual([]);
  });

  it('refuses bad steps and budgets', async () => {
    const caller = createTestCaller();
    for (const [input, field] of [
      [{ steps: [] }, 'steps'],
      [{ budgetUsdPerRecord: -1 }, 'budgetUsdPerRecord'],
      [{ budgetUsdPerRecord: 11 }, 'budgetUsdPerRecord'],
      [{ records: [{ companyName: 'X', fields: { a: { nested: true } } }] }, 'records.0.fields.a'],
    ] as const) {
      const result = await subgraph.call(caller, `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`, { input: { name: 'bad', records: [record(dealers[0]!)], ...input } });
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
    }
  });
});

describe('Lead.enrichment and Lead.qualification', () => {
  it('give a lead its latest enriched record, and another tenant nothing', async () => {
    const owner = createTestCaller();
    const job = await run({ name: 'leads', records: [record(dealers[10]!)], steps: ['WEBSITE', 'QUALIFICATION'] }, owner);
    const leadId = randomUUID();
    // What a job over a lead list writes for each record: the lead it enriches.
    await subgraph.app.database.orm.em.getConnection().execute(`update enrichment.enrichment_record set lead_id = ? where job_id = ?`, [leadId, job.id]);
    const lookup = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Lead { id enrichment { website lead { id } } qualification { tier basis } } } }`;
    const representations = [{ __typename: 'Lead', id: leadId }, { __typename: 'Lead', id: randomUUID() }];
    const mine = await subgraph.call(owner, lookup, { representations });
    expect(mine.errors).toBeUndefined();
    expect(mine.data!['_entities']).toEqual([
      { id: leadId, enrichment: { website: job.records[0].website, lead: { id: leadId } }, qualification: { tier: job.records[0].qualification.tier, basis: 'DATA' } },
      { id: representations[1]!.id, enrichment: null, qualification: null },
    ]);
    const theirs = await subgraph.call(createTestCaller(), lookup, { representations });
    expect(theirs.data!['_entities'][0]).toEqual({ id: leadId, enrichment: null, qualification: null });
  });
});

