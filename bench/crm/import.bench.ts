// Lead import throughput: a generated file in the shape of the Florida dealer register (18
// columns; about 5% of its rows repeat an earlier dealer), from the first byte of the upload to
// the import's SUCCEEDED (staged with COPY, then merged into new companies and leads with their
// lead.imported events and the list), side by side with `psql \copy` of the same file into an
// unindexed table of 18 text columns — the database's own floor for reading those bytes.
//
// The CRM subgraph runs in this process with its worker; the file is PUT straight to its
// /files/<ticket> route (signed as the gateway signs it), streamed from disk. Each timed import is
// a new tenant, so every one creates all its leads. Peak RSS growth is sampled every 20 ms during
// the imports (BENCH_ROWS=1000000 for the memory goal).
//
//   npm run bench:import                              (needs PostgreSQL, psql and Redis like the tests)
//   BENCH_ROWS=1000000 BENCH_RUNS=1 npm run bench:import
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createApp } from '@gtm/crm-service/app';
import { loadConfig } from '@gtm/crm-service/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, createTestCaller } from '@gtm/testing';
import { dealerHeader, writeDealerFile } from './dealer-file.ts';
import { uploadDealerFile, waitForImportEnd } from './import-upload.ts';

const rows = Number(process.env['BENCH_ROWS'] ?? 100_000);
const runs = Number(process.env['BENCH_RUNS'] ?? 3);

const directory = await mkdtemp(join(tmpdir(), 'gtm-import-bench-'));
const file = join(directory, 'dealers.csv');
const bytes = await writeDealerFile(file, rows);

const setup = await createSubgraphTestSetup();
const app = await createApp(loadConfig({ ...setup.environment, JOB_WORKER_CONCURRENCY: '1', DATABASE_POOL_MAX: '6' }), { logger: createLogger({ service: 'bench', level: 'silent' }) });
const call = createSubgraphClient(app.url, setup.callerKeys.signer);
const sql = app.database.orm.em.getConnection();
const origin = new URL(app.url).origin;

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

async function importOnce(): Promise<{ ms: number; uploadMs: number; result: Record<string, number | string> }> {
  const caller = createTestCaller();
  const startedAt = performance.now();
  const id = await uploadDealerFile({ call, origin, signer: setup.callerKeys.signer, caller, file });
  const uploadMs = performance.now() - startedAt;
  await waitForImportEnd((text, values) => sql.execute(text, values), id);
  const ms = performance.now() - startedAt;
  const read = await call(caller, `query ($id: ID!) { leadImport(id: $id) { status total imported merged rejected } }`, { id });
  return { ms, uploadMs, result: read.data!['leadImport'] };
}

const psql = promisify(execFile);
const databaseUrl = setup.environment['DATABASE_URL']!;
async function rawCopy(): Promise<number> {
  await psql('psql', [databaseUrl, '-qc', `drop table if exists public.raw_copy; create unlogged table public.raw_copy (${dealerHeader.map((_column, index) => `c${index} text`).join(', ')})`]);
  const startedAt = performance.now();
  await psql('psql', [databaseUrl, '-qc', `\\copy public.raw_copy from '${file}' with (format csv, header true)`]);
  return performance.now() - startedAt;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rssBefore = process.memoryUsage().rss;
peakRss = rssBefore;
const imports: number[] = [];
const uploads: number[] = [];
const copies: number[] = [];
let last: Record<string, number | string> = {};
for (let index = 0; index < runs; index += 1) {
  const timed = await importOnce();
  if (timed.result['status'] !== 'SUCCEEDED') throw new Error(`import: ${JSON.stringify(timed.result)}`);
  imports.push(timed.ms);
  uploads.push(timed.uploadMs);
  last = timed.result;
  copies.push(await rawCopy());
}
clearInterval(sampler);

const importMs = median(imports);
const copyMs = median(copies);
process.stdout.write(
  `${JSON.stringify(
    {
      rows,
      fileMegabytes: Math.round(bytes / 1_048_576),
      runs,
      lastImport: last,
      importMs: imports.map(Math.round),
      uploadAndStageMs: uploads.map(Math.round),
      rawCopyMs: copies.map(Math.round),
      medianImportRowsPerSecond: Math.round(rows / (importMs / 1000)),
      medianRawCopyRowsPerSecond: Math.round(rows / (copyMs / 1000)),
      importToRawCopy: Number((copyMs / importMs).toFixed(2)),
      peakRssGrowthMegabytes: Math.round((peakRss - rssBefore) / 1_048_576),
      load: (await import('node:os')).loadavg().map((value) => Number(value.toFixed(2))),
    },
    null,
    2,
  )}\n`,
);

await app.close();
await setup.dispose();
await rm(directory, { recursive: true, force: true });
