// An enrichment service process killed outright in the middle of a job over the dealer register:
// a new process resumes it, every record is enriched exactly once, and no search is paid twice.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import {
  createSubgraphTestSetup,
  createTestCaller,
  leadSiteFixture,
  postGraphQL,
  startTypeScriptService,
  startCompanySites,
  startFakeSerperServer,
  type CompanySitesServer,
  type FakeSearchServer,
  type ServiceProcess,
  type SubgraphTestSetup,
} from '@gtm/testing';
import { callerTokenHeader } from '@gtm/caller';
import { parse } from 'csv-parse/sync';
import pg from 'pg';

const total = 40;
const dealers = (parse(readFileSync(new URL('../../../../fixtures/leads/florida-dealers-10k.csv', import.meta.url)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>).slice(100, 100 + total);
let setup: SubgraphTestSetup;
let sites: CompanySitesServer;
let serper: FakeSearchServer;
let client: pg.Client;
const children: ChildProcess[] = [];
const hosts = new Set<string>();

beforeAll(async () => {
  setup = await createSubgraphTestSetup();
  sites = await startCompanySites();
  const documents = dealers.flatMap((row) => {
    const fixture = leadSiteFixture(
      { name: row['DEALER NAME']!, address: row['LOCATION ADDRESS']!, city: row['LOCATION CITY']!, state: row['STATE']!, zip: row['LOC ZIP']!, phone: row['PHONE']!, key: row['LIC NUMBER']! },
      { origin: sites.origin },
    );
    sites.add(fixture.sites);
    hosts.add(fixture.host!);
    return fixture.documents;
  });
  // Slow enough that the job is still running when the process is killed.
  serper = await startFakeSerperServer({ documents, delayMs: 60 });
  client = new pg.Client({ connectionString: setup.environment['DATABASE_URL'] });
  await client.connect();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await client?.end();
  await Promise.all([sites?.close(), serper?.close()]);
  await setup?.dispose();
});

/** Starts the service in a process of its own; resolves with its GraphQL URL once it listens. */
async function startServiceProcess(): Promise<ServiceProcess> {
  const service = await startTypeScriptService(new URL('./testing/enrichment-process.ts', import.meta.url), {
    ...process.env,
    ...setup.environment,
    SERPER_API_KEY: 'serper-key',
    SERPER_BASE_URL: serper.url,
    LLM_PROVIDERS: 'offline',
    CONTENT_FETCH_ALLOWLIST: sites.allowlist().join(','),
    ENRICHMENT_RECORD_CONCURRENCY: '4',
    JOB_WORKER_CONCURRENCY: '1',
    LOG_LEVEL: 'warn',
  });
  children.push(service.child);
  return service;
}

async function jobRow(jobId: string): Promise<{ status: string; completed: number; failed: number }> {
  const { rows } = await client.query('select status, completed, failed from enrichment.job where id = $1', [jobId]);
  return rows[0];
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  for (const started = Date.now(); !(await check()); ) {
    if (Date.now() - started > timeoutMs) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('resumes a job whose service process was killed, enriching each record once and paying for each search once', async () => {
  const first = await startServiceProcess();
  const caller = createTestCaller();
  const records = dealers.map((row) => ({ companyName: row['DEALER NAME'], address: row['LOCATION ADDRESS'], city: row['LOCATION CITY'], state: row['STATE'], postalCode: row['LOC ZIP'], phone: row['PHONE'] }));
  const created = await postGraphQL(
    first.url,
    { query: `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`, variables: { input: { name: 'dealers.csv', records, steps: ['WEBSITE', 'QUALIFICATION'] } } },
    { [callerTokenHeader]: await setup.callerKeys.signer.sign(caller) },
  );
  expect(created.errors).toBeUndefined();
  const jobId = created.data!['createEnrichmentJob'].id;

  await eventually(async () => {
    const row = await jobRow(jobId);
    return row.completed + row.failed >= 8;
  });
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  const atKill = await jobRow(jobId);
  expect(atKill.status).toBe('RUNNING');
  expect(atKill.completed + atKill.failed).toBeLessThan(total);

  await startServiceProcess();
  await eventually(async () => (await jobRow(jobId)).status === 'SUCCEEDED');

  expect(await jobRow(jobId)).toEqual({ status: 'SUCCEEDED', completed: total, failed: 0 });
  const { rows: items } = await client.query('select count(*)::int as count, count(distinct item_key)::int as keys from enrichment.job_item where job_id = $1', [jobId]);
  expect(items[0]).toEqual({ count: total, keys: total });
  const { rows: enrichedRecords } = await client.query(
    `select count(*)::int as enriched, count(distinct normalized_website)::int as websites, sum(cost_usd)::float as cost from enrichment.enrichment_record where job_id = $1 and status = 'ENRICHED' and qualification is not null`,
    [jobId],
  );
  // Two branches of one dealer share a website.
  expect(enrichedRecords[0]).toMatchObject({ enriched: total, websites: hosts.size });
  // Each search made once, except those on the wire when the process died (their answers were
  // lost with it): a record redone after the kill found its search in the cache, free, and two
  // records asking the same search (one dealer listed twice) shared it. No search is charged twice.
  const distinctSearches = new Set(dealers.map((row) => `${row['DEALER NAME']} ${row['LOCATION CITY']} ${row['STATE']}`)).size;
  const queries = serper.requests.map((request) => request.query);
  expect(new Set(queries).size).toBe(distinctSearches);
  expect(queries.length).toBeLessThanOrEqual(distinctSearches + 4);
  expect(enrichedRecords[0].cost).toBeLessThanOrEqual(queries.length * 0.001 + 1e-9);
}, 180_000);
