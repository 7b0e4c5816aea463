// The upload half of a lead import alone: a generated dealer-register file (see dealer-file.ts)
// read from disk through the CSV reader and the import's row normaliser into a staging table with
// COPY (`stageCsv`, as the upload handler calls it), inside a transaction that is rolled back. For
// each run: wall time, the CPU this process spent (all its threads) and the CPU the PostgreSQL
// backend spent on the COPY — what decides whether more threads could help on this machine.
// Medians of BENCH_RUNS runs; side by side with `psql \copy` of the same file into an unindexed table.
//
//   npm run bench:import-staging
//   BENCH_ROWS=100000 BENCH_RUNS=5 BENCH_WARMUP=1 (defaults)
//   BENCH_ROWS=1000000 BENCH_RUNS=1 BENCH_WARMUP=0: the memory of one million-row staging, with the
//   growth of the old generation and the large-object space at the RSS peak (what was promoted)
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stageCsv } from '@gtm/files';
import { createSubgraphTestSetup } from '@gtm/testing';
import pg from 'pg';
import { dealerHeader, writeDealerFile } from './dealer-file.ts';

// The built service: the normaliser is internal to it.
const built = '../../apps/crm-service/dist';
const { createRowNormaliser, stagedColumns } = (await import(`${built}/lead-import/lead-import.normalise.js`)) as typeof import('../../apps/crm-service/src/lead-import/lead-import.normalise.js');
const { resolveMapping } = (await import(`${built}/lead-import/lead-import.upload.js`)) as typeof import('../../apps/crm-service/src/lead-import/lead-import.upload.js');
const rows = Number(process.env['BENCH_ROWS'] ?? 100_000);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const warmUp = process.env['BENCH_WARMUP'] !== '0';

const directory = await mkdtemp(join(tmpdir(), 'gtm-staging-bench-'));
const file = join(directory, 'dealers.csv');
const bytes = await writeDealerFile(file, rows);
const setup = await createSubgraphTestSetup();
const databaseUrl = setup.environment['DATABASE_URL']!;
const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });

/** CPU seconds a process has used, from /proc (PostgreSQL runs on this machine in the benches). */
async function processCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function stageOnce(): Promise<{ ms: number; nodeCpuMs: number; postgresCpuMs: number; staged: number }> {
  const client = await pool.connect();
  try {
    const backend = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    await client.query('begin');
    await client.query(`create unlogged table public.staging (row_number integer not null, line integer not null, cells jsonb not null, ${stagedColumns.map((column) => `${column} text`).join(', ')})`);
    const postgresBefore = await processCpuMs(backend);
    const nodeBefore = process.cpuUsage();
    const startedAt = performance.now();
    const staged = await stageCsv({
      client,
      table: 'public.staging',
      body: createReadStream(file),
      derive: (reader) => {
        const mapping = resolveMapping(reader, []);
        return { columns: [...stagedColumns], values: createRowNormaliser(reader.columns, mapping, null) };
      },
    });
    const ms = performance.now() - startedAt;
    const node = process.cpuUsage(nodeBefore);
    const postgresCpuMs = (await processCpuMs(backend)) - postgresBefore;
    await client.query('rollback');
    return { ms, nodeCpuMs: (node.user + node.system) / 1000, postgresCpuMs, staged: staged.rows };
  } finally {
    client.release();
  }
}

const psql = promisify(execFile);
async function rawCopy(): Promise<number> {
  await psql('psql', [databaseUrl, '-qc', `drop table if exists public.raw_copy; create unlogged table public.raw_copy (${dealerHeader.map((_column, index) => `c${index} text`).join(', ')})`]);
  const startedAt = performance.now();
  await psql('psql', [databaseUrl, '-qc', `\\copy public.raw_copy from '${file}' with (format csv, header true)`]);
  return performance.now() - startedAt;
}

// Peak RSS growth over the runs (BENCH_ROWS=1000000 for the memory goal of the upload alone).
/** Megabytes in the old generation and the large-object space (what scavenges promoted, and big objects), and the young generation's. */
const heapSpaces = () => {
  const spaces = getHeapSpaceStatistics();
  const megabytes = (name: string) => Math.round((spaces.find((space) => space.space_name === name)?.space_used_size ?? 0) / 1_048_576);
  const committed = (name: string) => Math.round((spaces.find((space) => space.space_name === name)?.physical_space_size ?? 0) / 1_048_576);
  // The young generation's pages in memory: V8 grows and shrinks it with the allocation rate.
  return { oldSpace: megabytes('old_space'), largeObjectSpace: megabytes('large_object_space'), youngGeneration: committed('new_space') };
};
const rssBefore = process.memoryUsage().rss;
const spacesBefore = heapSpaces();
let peakRss = rssBefore;
let spacesAtPeak = spacesBefore;
const sampler = setInterval(() => {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) [peakRss, spacesAtPeak] = [rss, heapSpaces()];
}, 20);
const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Array<Awaited<ReturnType<typeof stageOnce>>> = [];
const copies: number[] = [];
if (warmUp) await stageOnce(); // the first run also compiles the code
for (let index = 0; index < runs; index += 1) {
  results.push(await stageOnce());
  copies.push(await rawCopy());
}
clearInterval(sampler);
const stageMs = median(results.map((result) => result.ms));
process.stdout.write(
  `${JSON.stringify(
    {
      rows,
      fileMegabytes: Math.round(bytes / 1_048_576),
      runs,
      staged: results[0]!.staged,
      stageMs: results.map((result) => Math.round(result.ms)),
      nodeCpuMs: results.map((result) => Math.round(result.nodeCpuMs)),
      postgresCpuMs: results.map((result) => Math.round(result.postgresCpuMs)),
      rawCopyMs: copies.map(Math.round),
      medianStageRowsPerSecond: Math.round(rows / (stageMs / 1000)),
      medianNodeCpuMs: Math.round(median(results.map((result) => result.nodeCpuMs))),
      medianPostgresCpuMs: Math.round(median(results.map((result) => result.postgresCpuMs))),
      stageToRawCopy: Number((median(copies) / stageMs).toFixed(2)),
      peakRssGrowthMegabytes: Math.round((peakRss - rssBefore) / 1_048_576),
      atPeakOldSpaceGrowthMegabytes: spacesAtPeak.oldSpace - spacesBefore.oldSpace,
      atPeakLargeObjectSpaceGrowthMegabytes: spacesAtPeak.largeObjectSpace - spacesBefore.largeObjectSpace,
      youngGenerationMegabytes: { before: spacesBefore.youngGeneration, atPeak: spacesAtPeak.youngGeneration },
      load: loadavg().map((value) => Number(value.toFixed(2))),
    },
    null,
    2,
  )}\n`,
);

await pool.end();
await setup.dispose();
await rm(directory, { recursive: true, force: true });
