// CRM sync throughput: a first sync importing 10,000 contacts from the fake HubSpot (100 per page,
// each page answered after 20 ms, on its own thread), against the floor the provider's page
// latency sets (pages × 20 ms, pages read one after another); then a second run with nothing
// changed: its requests and its writes on either side (goal: pages read only, zero writes).
//
// The CRM subgraph runs in this process with its worker (JOB_WORKER_CONCURRENCY=1), on a fresh
// database; each timed first run is a new tenant's connection to the same HubSpot account, so
// every one imports all 10,000 from scratch. Timed from `syncCrm` to the run's SUCCEEDED.
//
//   npm run bench:crm-sync                (needs PostgreSQL and Redis like the tests)
//   BENCH_RUNS=5 npm run bench:crm-sync
import { Worker } from 'node:worker_threads';
import { createApp } from '@gtm/crm-service/app';
import { loadConfig } from '@gtm/crm-service/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, createTestCaller } from '@gtm/testing';

const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const contacts = 10_000;
const pageSize = 100;
const latencyMs = 20;

const fake = new Worker(new URL('./fake-hubspot.worker.ts', import.meta.url), { workerData: { contacts, latencyMs } });
const hubspot = await new Promise<{ baseUrl: string; accessToken: string; portalId: number }>((resolve) => fake.once('message', resolve));
const ask = <Answer>(message: string) =>
  new Promise<Answer>((resolve) => {
    fake.once('message', resolve);
    fake.postMessage(message, []);
  });

const setup = await createSubgraphTestSetup();
const app = await createApp(
  loadConfig({ ...setup.environment, CRM_FETCH_ALLOWLIST: '127.0.0.1', CRM_SYNC_PAGE_SIZE: String(pageSize), JOB_WORKER_CONCURRENCY: '1', DATABASE_POOL_MAX: '6' }),
  { logger: createLogger({ service: 'bench', level: 'silent' }) },
);
const call = createSubgraphClient(app.url, setup.callerKeys.signer);
const sql = app.database.orm.em.getConnection();

interface Run {
  id: string;
  status: string;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

async function syncAndWait(caller: ReturnType<typeof createTestCaller>, connectionId: string): Promise<{ run: Run; ms: number }> {
  const startedAt = performance.now();
  const started = await call(caller, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId });
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  const runId = started.data!['syncCrm'].id as string;
  for (;;) {
    const [row] = await sql.execute(`select status from crm.job where id = ?`, [runId]);
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(row?.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const ms = performance.now() - startedAt;
  const result = await call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 1) { id status created updated unchanged failed } } }`, { id: connectionId });
  return { run: result.data!['crmConnection'].syncRuns[0], ms };
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
const first: number[] = [];
const second: number[] = [];
let report: Record<string, unknown> = {};
for (let index = 0; index < runs; index += 1) {
  const caller = createTestCaller();
  const connected = await call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, {
    input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken, portalId: hubspot.portalId }, baseUrl: hubspot.baseUrl },
  });
  const connectionId = connected.data!['connectCrm'].id as string;
  await ask('reset');
  const initial = await syncAndWait(caller, connectionId);
  const initialCounts = await ask<{ requests: number; writes: number; searches: number }>('counts');
  if (initial.run.status !== 'SUCCEEDED' || initial.run.created !== contacts) throw new Error(`first run: ${JSON.stringify(initial.run)}`);
  first.push(initial.ms);

  const writesBefore = await sql.execute(`select count(*)::int as leads, max(updated_at) as last from crm.lead where tenant_id = ?`, [caller.tenantId]);
  await ask('reset');
  const again = await syncAndWait(caller, connectionId);
  const againCounts = await ask<{ requests: number; writes: number; searches: number }>('counts');
  const writesAfter = await sql.execute(`select count(*)::int as leads, max(updated_at) as last from crm.lead where tenant_id = ?`, [caller.tenantId]);
  second.push(again.ms);
  report = {
    firstRun: { pages: initialCounts.searches, requests: initialCounts.requests, hubspotWrites: initialCounts.writes, leadsCreated: initial.run.created },
    unchangedRun: {
      requests: againCounts.requests,
      searches: againCounts.searches,
      hubspotWrites: againCounts.writes,
      created: again.run.created,
      updated: again.run.updated,
      unchanged: again.run.unchanged,
      leadRowsWritten: String(writesBefore[0]?.last) === String(writesAfter[0]?.last) && writesBefore[0]?.leads === writesAfter[0]?.leads ? 0 : 'changed',
    },
  };
  process.stderr.write(`run ${index + 1}: first ${Math.round(initial.ms)} ms, unchanged ${Math.round(again.ms)} ms\n`);
}

const pages = (report['firstRun'] as { pages: number }).pages;
const floorMs = pages * latencyMs;
process.stdout.write(
  `${JSON.stringify(
    {
      contacts,
      pageSize,
      pageLatencyMs: latencyMs,
      runs,
      firstRunMs: { median: Math.round(median(first)), all: first.map(Math.round) },
      pageLatencyFloorMs: floorMs,
      firstRunOverFloor: Number((median(first) / floorMs).toFixed(2)),
      contactsPerSecond: Math.round(contacts / (median(first) / 1000)),
      unchangedRunMs: { median: Math.round(median(second)), all: second.map(Math.round) },
      unchangedRunOverFloor: Number((median(second) / floorMs).toFixed(2)),
      ...report,
    },
    null,
    2,
  )}\n`,
);
await app.close();
await setup.dispose();
await ask('close');
await fake.terminate();
