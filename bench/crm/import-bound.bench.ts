// The least any import of the dealer file can cost: its end result, already computed, copied
// straight into the tables that hold it. One real import of the generated file (see
// dealer-file.ts) makes its 95,000 companies, 95,000 leads and list members; they are written out
// as CSV and deleted. Then, round after round in rotating order:
//
//   import   the whole import of the file for a new tenant, upload to SUCCEEDED (bench:import)
//   raw      `psql \copy` of the dealer file into an unindexed table of 18 text columns
//            (bench:import's yardstick, the denominator of its ratio)
//   real     the three result files `\copy`-ed into crm.company, crm.lead and
//            crm.lead_list_member (their indexes, generated match keys, foreign key and
//            triggers), in a transaction rolled back
//   keys     the same into copies of the tables with only their primary keys, generated keys and
//            unique indexes: what a store that refuses duplicates cannot drop
//   bare     the same into copies with nothing but the columns
//   insert   the result already in the database (unlogged tables loaded beforehand, untimed)
//            inserted into the real tables with `insert … select`, as the import's merge writes
//            them: no text to parse, rolled back
//
// The last four each run in one psql session. None of them parses, normalises, matches or groups
// anything; an import must do all that as well, so `raw ÷ insert` (or `raw ÷ real`) bounds what
// `bench:import`'s ratio could ever reach with these tables, and `rows ÷ insert` its rows per
// second.
//
//   nx run-many -t build -p crm-service,testing && node bench/crm/import-bound.bench.ts
//   BENCH_ROWS=100000 BENCH_RUNS=5 (defaults)
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createApp } from '@gtm/crm-service/app';
import { loadConfig } from '@gtm/crm-service/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, createTestCaller } from '@gtm/testing';
import { dealerHeader, writeDealerFile } from './dealer-file.ts';
import { uploadDealerFile, waitForImportEnd } from './import-upload.ts';

const rows = Number(process.env['BENCH_ROWS'] ?? 100_000);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);

const directory = await mkdtemp(join(tmpdir(), 'gtm-import-bound-'));
const file = join(directory, 'dealers.csv');
await writeDealerFile(file, rows);
const setup = await createSubgraphTestSetup();
const app = await createApp(loadConfig({ ...setup.environment, JOB_WORKER_CONCURRENCY: '1' }), { logger: createLogger({ service: 'bench', level: 'silent' }) });
const call = createSubgraphClient(app.url, setup.callerKeys.signer);
const sql = app.database.orm.em.getConnection();
const databaseUrl = setup.environment['DATABASE_URL']!;
const exec = promisify(execFile);
const psql = (...args: string[]) => exec('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', ...args], { maxBuffer: 1 << 24 });

/** The whole import of the file for a new tenant, upload to SUCCEEDED, as bench:import times it; that tenant. */
async function importFile(): Promise<{ ms: number; tenant: string }> {
  const caller = createTestCaller();
  const startedAt = performance.now();
  const importId = await uploadDealerFile({ call, origin: new URL(app.url).origin, signer: setup.callerKeys.signer, caller, file });
  const status = await waitForImportEnd((text, values) => sql.execute(text, values), importId);
  if (status !== 'SUCCEEDED') throw new Error(`import ${status}`);
  return { ms: performance.now() - startedAt, tenant: caller.tenantId };
}

// One real import makes the result.
const { tenant } = await importFile();

// Every column the import writes (generated ones are computed again by the tables that have them).
const columns = {
  company: 'id, tenant_id, name, domain, website_url, industry, employee_count, phone, city, region, country, description, created_at, updated_at',
  lead: 'id, tenant_id, first_name, last_name, email, phone, title, company_id, status, source, notes, created_at, updated_at, custom_fields, email_kept_apart',
  lead_list_member: 'list_id, position, lead_id, tenant_id, cells',
} as const;
const tables = Object.keys(columns) as Array<keyof typeof columns>;
const counts: Record<string, number> = {};
for (const table of tables) {
  const [row] = (await sql.execute(`select count(*)::int as count from crm.${table} where tenant_id = ?`, [tenant])) as Array<{ count: number }>;
  counts[table] = row!.count;
  await psql('-c', `\\copy (select ${columns[table]} from crm.${table} where tenant_id = '${tenant}') to '${join(directory, `${table}.csv`)}' with (format csv)`);
}
await sql.execute(`delete from crm.lead_list_member where tenant_id = ?`, [tenant]);
await sql.execute(`delete from crm.lead where tenant_id = ?`, [tenant]);
await sql.execute(`delete from crm.company where tenant_id = ?`, [tenant]);
await sql.execute(`vacuum analyze crm.company, crm.lead, crm.lead_list_member`);

// The two copies of the tables, in a schema of their own.
await sql.execute(`drop schema if exists bound cascade; create schema bound`);
for (const table of tables) {
  await sql.execute(`create table bound.${table}_keys (like crm.${table} including generated including defaults)`);
  await sql.execute(`create table bound.${table}_bare (like crm.${table} including defaults)`);
}
await sql.execute(`alter table bound.company_keys add primary key (id); create unique index on bound.company_keys (tenant_id, domain) where domain is not null`);
await sql.execute(`alter table bound.lead_keys add primary key (id); create unique index on bound.lead_keys (tenant_id, email_key) where email is not null`);
await sql.execute(`alter table bound.lead_list_member_keys add primary key (list_id, position); create unique index on bound.lead_list_member_keys (list_id, lead_id)`);

// The result already in the database, for `insert … select`.
for (const table of tables) {
  await sql.execute(`create unlogged table bound.${table}_result as select ${columns[table]} from bound.${table}_bare with no data`);
  await psql('-c', `\\copy bound.${table}_result from '${join(directory, `${table}.csv`)}' with (format csv)`);
}
await sql.execute(`vacuum analyze bound.company_result, bound.lead_result, bound.lead_list_member_result`);

/** Per variant and table, what its statement took in each round (psql's `\timing`). */
const perTable: Record<string, Record<string, number[]>> = {};
/** Runs `statements` (one per table, in `tables` order) in one psql session inside a transaction rolled back; its wall time. */
async function session(variant: string, statements: string[]): Promise<number> {
  const script = join(directory, 'session.sql');
  await writeFile(script, ['\\timing on', 'begin;', ...statements, 'rollback;', ''].join('\n'));
  const startedAt = performance.now();
  const { stdout } = await psql('-f', script);
  const elapsed = performance.now() - startedAt;
  // A rolled-back insert leaves its dead rows and index entries behind; without this each round
  // would write into tables bloated by the rounds before it.
  await sql.execute(`vacuum crm.company, crm.lead, crm.lead_list_member, ${tables.flatMap((table) => [`bound.${table}_keys`, `bound.${table}_bare`]).join(', ')}`);
  const statementMs = [...stdout.matchAll(/^Time: ([\d.]+) ms/gm)].map((match) => Number(match[1])).slice(1, 1 + tables.length);
  const byTable = (perTable[variant] ??= {});
  tables.forEach((table, index) => (byTable[table] ??= []).push(Math.round(statementMs[index] ?? Number.NaN)));
  return elapsed;
}
const copyResult = (variant: string, target: (table: keyof typeof columns) => string) =>
  session(
    variant,
    tables.map((table) => `\\copy ${target(table)} (${columns[table]}) from '${join(directory, `${table}.csv`)}' with (format csv)`),
  );

const variants: Record<string, () => Promise<number>> = {
  import: async () => (await importFile()).ms,
  raw: async () => {
    await psql('-c', `drop table if exists public.raw_copy; create unlogged table public.raw_copy (${dealerHeader.map((_column, index) => `c${index} text`).join(', ')})`);
    const startedAt = performance.now();
    await psql('-c', `\\copy public.raw_copy from '${file}' with (format csv, header true)`);
    return performance.now() - startedAt;
  },
  real: () => copyResult('real', (table) => `crm.${table}`),
  keys: () => copyResult('keys', (table) => `bound.${table}_keys`),
  bare: () => copyResult('bare', (table) => `bound.${table}_bare`),
  insert: () => session('insert', tables.map((table) => `insert into crm.${table} (${columns[table]}) select ${columns[table]} from bound.${table}_result;`)),
};
const names = Object.keys(variants);
const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let run = 0; run < runs; run += 1) {
  for (let offset = 0; offset < names.length; offset += 1) {
    const name = names[(run + offset) % names.length]!;
    times[name]!.push(Math.round(await variants[name]!()));
  }
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
const raw = median(times['raw']!);
process.stdout.write(
  `${JSON.stringify(
    {
      rows,
      written: counts,
      runs,
      ms: times,
      medianMs: Object.fromEntries(names.map((name) => [name, median(times[name]!)])),
      rawCopyOverVariant: Object.fromEntries(names.map((name) => [name, Number((raw / median(times[name]!)).toFixed(2))])),
      medianMsPerTable: Object.fromEntries(Object.entries(perTable).map(([variant, byTable]) => [variant, Object.fromEntries(Object.entries(byTable).map(([table, values]) => [table, median(values)]))])),
      fileRowsPerSecond: Object.fromEntries(names.map((name) => [name, Math.round(rows / (median(times[name]!) / 1000))])),
      load: loadavg().map((value) => Number(value.toFixed(2))),
    },
    null,
    2,
  )}\n`,
);

await sql.execute(`drop schema bound cascade`);
await app.close();
await setup.dispose();
await rm(directory, { recursive: true, force: true });
