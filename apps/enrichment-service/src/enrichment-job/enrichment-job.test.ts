import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, postGraphQL, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const tenantA = createTestCaller();
const tenantB = createTestCaller();

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig(environment), { onQuery }));
});

afterAll(() => subgraph?.close());

const jobFields = 'id name status total completed failed percent message createdAt updatedAt startedAt finishedAt';
const createJob = `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { ${jobFields} } }`;
const cancelJob = `mutation ($id: ID!) { cancelEnrichmentJob(id: $id) { id status finishedAt updatedAt } }`;

/** Moves a job as the worker will, straight in this test's own database: no API does this yet. */
async function setProgress(jobId: string, changes: { status?: string; completed?: number; failed?: number }) {
  const connection = subgraph.app.database.orm.em.getConnection();
  await connection.execute(`update enrichment.job set status = coalesce(?, status), completed = coalesce(?, completed), failed = coalesce(?, failed) where id = ?`, [
    changes.status ?? null,
    changes.completed ?? null,
    changes.failed ?? null,
    jobId,
  ]);
}

describe('enrichment jobs', () => {
  it('creates a queued job and reads it back', async () => {
    const before = Date.now();
    const created = await subgraph.call(tenantA, createJob, { input: { name: '  florida-dealers-10k.csv ', total: 10_246 } });
    expect(created.errors).toBeUndefined();
    const job = created.data!['createEnrichmentJob'];
    expect(job).toMatchObject({ name: 'florida-dealers-10k.csv', status: 'QUEUED', total: 10_246, completed: 0, failed: 0, percent: 0, message: null, startedAt: null, finishedAt: null });
    expect(Date.parse(job.createdAt)).toBeGreaterThanOrEqual(before - 1_000);

    const read = await subgraph.call(tenantA, `query ($id: ID!) { enrichmentJob(id: $id) { ${jobFields} } }`, { id: job.id });
    expect(read.data!['enrichmentJob']).toEqual(job);
  });

  it('reports percent as processed records, successful or failed, over total', async () => {
    const created = await subgraph.call(tenantA, createJob, { input: { name: 'progress.csv', total: 8 } });
    const jobId = created.data!['createEnrichmentJob'].id;
    await setProgress(jobId, { status: 'RUNNING', completed: 3, failed: 1 });
    const read = await subgraph.call(tenantA, `query ($id: ID!) { enrichmentJob(id: $id) { status completed failed percent } }`, { id: jobId });
    expect(read.data!['enrichmentJob']).toEqual({ status: 'RUNNING', completed: 3, failed: 1, percent: 50 });

    const empty = await subgraph.call(tenantA, createJob, { input: { name: 'empty.csv', total: 0 } });
    expect(empty.data!['createEnrichmentJob']).toMatchObject({ total: 0, percent: 0 });
  });

  it('does not expose the internal error column', async () => {
    const result = await subgraph.call(tenantA, `{ enrichmentJobs { edges { node { id error } } } }`);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('lists jobs as a Relay connection, newest first, with stable pages and a status filter', async () => {
    const caller = createTestCaller();
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const result = await subgraph.call(caller, createJob, { input: { name: `list-${index}.csv`, total: 10 } });
      expect(result.errors).toBeUndefined();
      ids.push(result.data!['createEnrichmentJob'].id);
    }
    const page = `query ($after: String, $filter: EnrichmentJobFilter) { enrichmentJobs(first: 2, after: $after, filter: $filter) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: { data?: Record<string, any> | null } = await subgraph.call(caller, page, { after });
      const connection: { edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = result.data!['enrichmentJobs'];
      seen.push(...connection.edges.map((edge) => edge.node.name));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(['list-4.csv', 'list-3.csv', 'list-2.csv', 'list-1.csv', 'list-0.csv']);

    await setProgress(ids[1]!, { status: 'RUNNING' });
    expect((await subgraph.call(caller, cancelJob, { id: ids[3] })).errors).toBeUndefined();
    const names = async (status: string[]) =>
      (await subgraph.call(caller, page, { filter: { status } })).data!['enrichmentJobs'].edges.map((edge: { node: { name: string } }) => edge.node.name);
    expect(await names(['RUNNING'])).toEqual(['list-1.csv']);
    expect(await names(['RUNNING', 'CANCELLED'])).toEqual(['list-3.csv', 'list-1.csv']);
    expect(await names(['SUCCEEDED'])).toEqual([]);
  });

  it('cancels a queued or running job and refuses to cancel a finished one', async () => {
    const caller = createTestCaller();
    const queued = (await subgraph.call(caller, createJob, { input: { name: 'queued.csv', total: 5 } })).data!['createEnrichmentJob'];
    const cancelled = await subgraph.call(caller, cancelJob, { id: queued.id });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data!['cancelEnrichmentJob']).toMatchObject({ id: queued.id, status: 'CANCELLED' });
    expect(cancelled.data!['cancelEnrichmentJob'].finishedAt).not.toBeNull();
    expect(Date.parse(cancelled.data!['cancelEnrichmentJob'].updatedAt)).toBeGreaterThanOrEqual(Date.parse(queued.updatedAt));

    const running = (await subgraph.call(caller, createJob, { input: { name: 'running.csv', total: 5 } })).data!['createEnrichmentJob'];
    await setProgress(running.id, { status: 'RUNNING', completed: 2 });
    const stopped = await subgraph.call(caller, `mutation ($id: ID!) { cancelEnrichmentJob(id: $id) { status completed percent } }`, { id: running.id });
    expect(stopped.data!['cancelEnrichmentJob']).toEqual({ status: 'CANCELLED', completed: 2, percent: 40 });

    const again = await subgraph.call(caller, cancelJob, { id: queued.id });
    expect(again.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(again.errors?.[0]?.message).toMatch(/already finished/);

    const succeeded = (await subgraph.call(caller, createJob, { input: { name: 'done.csv', total: 1 } })).data!['createEnrichmentJob'];
    await setProgress(succeeded.id, { status: 'SUCCEEDED', completed: 1 });
    const late = await subgraph.call(caller, cancelJob, { id: succeeded.id });
    expect(late.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(late.errors?.[0]?.message).toMatch(/already finished \(SUCCEEDED\)/);
    const unchanged = await subgraph.call(caller, `query ($id: ID!) { enrichmentJob(id: $id) { status finishedAt } }`, { id: succeeded.id });
    expect(unchanged.data!['enrichmentJob']).toEqual({ status: 'SUCCEEDED', finishedAt: null });

    const unknown = await subgraph.call(caller, cancelJob, { id: randomUUID() });
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const notAnId = await subgraph.call(caller, cancelJob, { id: 'not-an-id' });
    expect(notAnId.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });

  it('rejects bad input with BAD_USER_INPUT and saves nothing', async () => {
    const caller = createTestCaller();
    const attempts = [
      { input: { name: '   ', total: 1 }, field: 'name' },
      { input: { name: 'x'.repeat(201), total: 1 }, field: 'name' },
      { input: { name: 'negative.csv', total: -1 }, field: 'total' },
      { input: { name: 'huge.csv', total: 1_000_001 }, field: 'total' },
    ];
    for (const attempt of attempts) {
      const result = await subgraph.call(caller, createJob, { input: attempt.input });
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: attempt.field } });
    }
    const longest = await subgraph.call(caller, createJob, { input: { name: 'x'.repeat(200), total: 1_000_000 } });
    expect(longest.errors).toBeUndefined();

    const badCursor = await subgraph.call(caller, `{ enrichmentJobs(after: "garbage") { edges { cursor } } }`);
    expect(badCursor.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const tooMany = await subgraph.call(caller, `{ enrichmentJobs(first: 1000) { edges { cursor } } }`);
    expect(tooMany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const all = await subgraph.call(caller, `{ enrichmentJobs { edges { node { total } } } }`);
    expect(all.data!['enrichmentJobs'].edges).toEqual([{ node: { total: 1_000_000 } }]);
  });
});

/** Reads the job until it has finished (the worker runs in the service's process). */
async function finished(caller: ReturnType<typeof createTestCaller>, jobId: string) {
  for (;;) {
    const read = await subgraph.call(caller, `query ($id: ID!) { enrichmentJob(id: $id) { ${jobFields} } }`, { id: jobId });
    const job = read.data!['enrichmentJob'];
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('running an enrichment job', () => {
  it('enriches each record once when the job is created with its records, counting the ones it could not', async () => {
    const caller = createTestCaller();
    const records = [
      { email: 'jack@panfactum.com', companyName: 'Panfactum', website: 'panfactum.com' },
      { website: 'WWW.Blossomer.io/' },
      { email: 'someone@gmail.com' },
      { email: 'ops@acme.io', website: 'https://www.yelp.com/biz/acme' },
      { website: 'not a url either' },
      { companyName: 'Only a name' },
    ];
    const created = await subgraph.call(caller, createJob, { input: { name: 'five.csv', records, steps: ['WEBSITE'] } });
    expect(created.errors).toBeUndefined();
    expect(created.data!['createEnrichmentJob']).toMatchObject({ total: 6, completed: 0 });
    const job = await finished(caller, created.data!['createEnrichmentJob'].id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', total: 6, completed: 2, failed: 4, percent: 100 });
    expect(job.startedAt).not.toBeNull();
    expect(job.finishedAt).not.toBeNull();
    expect(job.message).toBe('Enriched 2, partly 0, failed 4; cost $0.0000.');

    const rows = await subgraph.app.database.orm.em
      .getConnection()
      .execute(`select position, status, domain, normalized_website, failure_reason from enrichment.enrichment_record where job_id = ? order by position`, [job.id]);
    expect(rows).toEqual([
      { position: 0, status: 'ENRICHED', domain: 'panfactum.com', normalized_website: 'https://panfactum.com', failure_reason: null },
      { position: 1, status: 'ENRICHED', domain: 'blossomer.io', normalized_website: 'https://www.blossomer.io', failure_reason: null },
      { position: 2, status: 'FAILED', domain: null, normalized_website: null, failure_reason: 'No usable website and no company name to search for: give one of them.' },
      { position: 3, status: 'FAILED', domain: null, normalized_website: null, failure_reason: expect.stringMatching(/^yelp\.com is a directory or social site, not the company's own website\. .*no company name to search for/) },
      { position: 4, status: 'FAILED', domain: null, normalized_website: null, failure_reason: expect.stringContaining('"not a url either" is not a website address.') },
      { position: 5, status: 'FAILED', domain: null, normalized_website: null, failure_reason: expect.stringMatching(/^No web-search provider is configured \(SEARCH_PROVIDERS, SERPER_API_KEY, BRAVE_SEARCH_API_KEY\)\./) },
    ]);
    const items = await subgraph.app.database.orm.em.getConnection().execute(`select count(*)::int as count from enrichment.job_item where job_id = ?`, [job.id]);
    expect(items).toEqual([{ count: 6 }]);
  });

  it('refuses records that cannot be enriched, a total that does not match them, and saves nothing', async () => {
    const caller = createTestCaller();
    const attempts = [
      { input: { name: 'empty.csv', records: [] }, field: 'records' },
      { input: { name: 'blank.csv', records: [{ companyName: '  ', email: null }] }, field: 'records.0' },
      { input: { name: 'mismatch.csv', total: 3, records: [{ website: 'acme.io' }] }, field: 'total' },
      { input: { name: 'nothing.csv' }, field: 'total' },
    ];
    for (const attempt of attempts) {
      const result = await subgraph.call(caller, createJob, { input: attempt.input });
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: attempt.field } });
    }
    const all = await subgraph.call(caller, `{ enrichmentJobs { edges { node { id } } } }`);
    expect(all.data!['enrichmentJobs'].edges).toEqual([]);
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read, list, cancel or resolve by reference tenant A’s job', async () => {
    const created = await subgraph.call(tenantA, createJob, { input: { name: 'secret.csv', total: 3 } });
    const jobId = created.data!['createEnrichmentJob'].id;

    expect((await subgraph.call(tenantB, `query ($id: ID!) { enrichmentJob(id: $id) { id } }`, { id: jobId })).data!['enrichmentJob']).toBeNull();
    const listed = await subgraph.call(tenantB, `{ enrichmentJobs(first: 100) { edges { node { id } } } }`);
    expect(listed.data!['enrichmentJobs'].edges.map((edge: { node: { id: string } }) => edge.node.id)).not.toContain(jobId);
    const cancelled = await subgraph.call(tenantB, cancelJob, { id: jobId });
    expect(cancelled.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const referenced = await subgraph.call(tenantB, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on EnrichmentJob { id name } } }`, {
      representations: [{ __typename: 'EnrichmentJob', id: jobId }],
    });
    expect(referenced.data!['_entities']).toEqual([null]);

    const stillThere = await subgraph.call(tenantA, `query ($id: ID!) { enrichmentJob(id: $id) { status } }`, { id: jobId });
    expect(stillThere.data!['enrichmentJob']).toEqual({ status: 'QUEUED' });
  });

  it('refuses a request that the gateway did not sign, _entities included', async () => {
    const unsigned = await postGraphQL(subgraph.app.url, { query: `{ _entities(representations: [{ __typename: "EnrichmentJob", id: "x" }]) { __typename } }` });
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const unsignedList = await postGraphQL(subgraph.app.url, { query: '{ enrichmentJobs { edges { cursor } } }' });
    expect(unsignedList.status).toBe(401);
  });
});

describe('entity references', () => {
  it('resolves 100 references with a constant number of SQL queries', async () => {
    const caller = createTestCaller();
    const ids: string[] = [];
    for (let index = 0; index < 100; index += 1) {
      const result = await subgraph.call(caller, createJob, { input: { name: `ref-${index}.csv`, total: 4 } });
      ids.push(result.data!['createEnrichmentJob'].id);
    }
    const resolve = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on EnrichmentJob { id name status percent } } }`;
    const countQueries = async (count: number) => {
      subgraph.queries.length = 0;
      const result = await subgraph.call(caller, resolve, { representations: ids.slice(0, count).map((id) => ({ __typename: 'EnrichmentJob', id })) });
      expect(result.errors).toBeUndefined();
      expect(result.data!['_entities']).toHaveLength(count);
      expect(result.data!['_entities'][count - 1]).toEqual({ id: ids[count - 1], name: `ref-${count - 1}.csv`, status: 'QUEUED', percent: 0 });
      return subgraph.queries.filter((sql) => /\bselect\b/i.test(sql)).length;
    };
    const forOne = await countQueries(1);
    const forHundred = await countQueries(100);
    expect(forHundred).toBe(forOne);
    expect(forHundred).toBeLessThanOrEqual(1);
  });
});

describe('health', () => {
  it('reports PostgreSQL and Redis as up', async () => {
    const response = await fetch(subgraph.app.url.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'enrichment-service', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });
});
