// The merge half of a lead import alone, statement by statement, and the floor under it. A
// generated dealer-register file (see dealer-file.ts) is uploaded and staged once with no job
// worker, so the import waits before its merge; then, BENCH_RUNS times, the built service's
// `mergeStagedImport` runs on those staged rows inside a transaction that is rolled back, each of
// its statements timed. After each merge, in the same transaction: the floor — the same companies
// and leads, already computed (copied into temporary tables with fresh ids), inserted bare into
// the real `company` and `lead` tables for another tenant, with their indexes, generated keys and
// triggers; then into copies of the two tables with no index, key or trigger. What the merge spends
// beyond the first is its passes; the first beyond the second is the schema.
//
//   nx run-many -t build -p crm-service,testing && node bench/crm/import-merge.bench.ts
//   BENCH_ROWS=100000 BENCH_RUNS=3 (defaults)
//   BENCH_FLOOR_VARIANTS=1  also the real lead table without its foreign key, and with the key's
//                           check as a statement trigger locking the companies (rolled back each)
//   BENCH_EXPLAIN=1         auto_explain of the merge's statements over 300 ms into the server log
//   BENCH_KEEP_DATABASE=1   leave the staged database for psql
//   BENCH_CHUNKS=10         also, each run, the same rows merged as that many consecutive chunks
//                           (row-number ranges copied into tables of their own beforehand), each
//                           chunk by the same merge, all in one transaction rolled back: what a
//                           merge chunk by chunk while the file arrives would cost, and what it
//                           would count (decision 0098)
// Each statement's wall time and the CPU the PostgreSQL backend spent on it (from /proc): on a
// shared machine the CPU is the steadier of the two.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '@gtm/crm-service/app';
import { loadConfig } from '@gtm/crm-service/config';
import { createLogger, type EntityManager } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, createTestCaller } from '@gtm/testing';
import { writeDealerFile } from './dealer-file.ts';
import { uploadDealerFile } from './import-upload.ts';

// The built service: the merge is internal to it.
const built = '../../apps/crm-service/dist';
const { mergeStagedImport } = (await import(`${built}/lead-import/lead-import.merge.js`)) as typeof import('../../apps/crm-service/src/lead-import/lead-import.merge.js');
type LeadImport = Parameters<typeof mergeStagedImport>[1];

const rows = Number(process.env['BENCH_ROWS'] ?? 100_000);
const runs = Number(process.env['BENCH_RUNS'] ?? 3);

const directory = await mkdtemp(join(tmpdir(), 'gtm-merge-bench-'));
const file = join(directory, 'dealers.csv');
await writeDealerFile(file, rows);
const setup = await createSubgraphTestSetup();
// No worker: the import stops once its rows are staged, before the merge.
const app = await createApp(loadConfig({ ...setup.environment, JOB_WORKER_CONCURRENCY: '0' }), { logger: createLogger({ service: 'bench', level: 'silent' }) });
const call = createSubgraphClient(app.url, setup.callerKeys.signer);
const caller = createTestCaller();
const importId = await uploadDealerFile({ call, origin: new URL(app.url).origin, signer: setup.callerKeys.signer, caller, file });
const em = app.database.orm.em.fork();
const [staged] = await em.execute<Array<Record<string, any>>>(`select id, tenant_id, staging_table, overwrite, list_name, columns from crm.lead_import join crm.job using (id) where id = ?`, [importId]);
if (!staged) throw new Error(`import ${importId} was not staged`);
const leadImport = {
  id: staged.id,
  tenantId: staged.tenant_id,
  stagingTable: staged.staging_table,
  overwrite: staged.overwrite,
  listName: staged.list_name,
  columns: staged.columns,
} as unknown as LeadImport;

/** CPU milliseconds a process has used, from /proc (PostgreSQL runs on this machine in the benches): steadier than wall time on a loaded machine. */
async function processCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** An EntityManager whose `execute` records how long each statement took, and the CPU the backend spent on it. */
function timed(transaction: EntityManager, backend: number, log: Array<{ sql: string; ms: number; cpuMs: number }>): EntityManager {
  return new Proxy(transaction, {
    get(target, property, receiver) {
      if (property !== 'execute') {
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (sql: string, ...rest: unknown[]) => {
        const cpuBefore = await processCpuMs(backend);
        const startedAt = performance.now();
        try {
          return await (target.execute as (...parameters: unknown[]) => Promise<unknown>)(sql, ...rest);
        } finally {
          const ms = performance.now() - startedAt;
          log.push({ sql: sql.replaceAll(/\s+/g, ' ').slice(0, 110), ms, cpuMs: (await processCpuMs(backend)) - cpuBefore });
        }
      };
    },
  });
}

const companyColumns = 'name, domain, website_url, industry, employee_count, phone, city, region, country, created_at, updated_at';
const leadColumns = 'first_name, last_name, email, phone, title, status, source, notes, custom_fields, created_at, updated_at, email_kept_apart';

/** The import's new companies and leads inserted again, bare, for another tenant: into the real tables, then into copies without indexes, keys or triggers. */
async function floor(transaction: EntityManager, backend: number): Promise<Record<string, number>> {
  const run = (sql: string, values: unknown[] = []) => transaction.execute<Array<Record<string, any>>>(sql, values);
  const times: Record<string, number> = {};
  /** Runs a statement, recording its wall time as `<name>Ms` and the backend's CPU as `<name>CpuMs`. */
  const clock = async (name: string, sql: string) => {
    const cpuBefore = await processCpuMs(backend);
    const startedAt = performance.now();
    await run(sql);
    times[`${name}Ms`] = Math.round(performance.now() - startedAt);
    times[`${name}CpuMs`] = Math.round((await processCpuMs(backend)) - cpuBefore);
  };
  const tenant = randomUUID();
  await run(`create temp table floor_company on commit drop as select crm.time_ordered_uuid() as new_id, id as old_id, ${companyColumns} from crm.company where tenant_id = ?`, [leadImport.tenantId]);
  await run(
    `create temp table floor_lead on commit drop as select crm.time_ordered_uuid() as new_id, c.new_id as company_id, ${leadColumns.split(', ').map((column) => `l.${column}`).join(', ')}
     from crm.lead l left join floor_company c on c.old_id = l.company_id where l.tenant_id = ?`,
    [leadImport.tenantId],
  );
  const insertCompanies = (into: string) => `insert into ${into} (id, tenant_id, ${companyColumns}) select new_id, '${tenant}', ${companyColumns} from floor_company order by new_id`;
  const insertLeads = (into: string) => `insert into ${into} (id, tenant_id, company_id, ${leadColumns}) select new_id, '${tenant}', company_id, ${leadColumns} from floor_lead order by new_id`;
  // Copies of the two tables with less and less of what the real ones have: nothing, the generated
  // match key, the key and the indexes. The real tables add their triggers (the foreign key's).
  const copies = { bare: '', key: 'including generated', indexed: 'including generated including indexes' };
  times['companies'] = Number((await run(`select count(*)::int as count from floor_company`))[0]!['count']);
  times['leads'] = Number((await run(`select count(*)::int as count from floor_lead`))[0]!['count']);
  for (const [name, including] of Object.entries(copies)) {
    await run(`create table crm.floor_company_${name} (like crm.company ${including})`);
    await run(`create table crm.floor_lead_${name} (like crm.lead ${including})`);
    await clock(`${name}Company`, insertCompanies(`crm.floor_company_${name}`));
    await clock(`${name}Lead`, insertLeads(`crm.floor_lead_${name}`));
  }
  await clock('realCompany', insertCompanies('crm.company'));
  await run(`savepoint variant`);
  await clock('realLead', insertLeads('crm.lead'));
  await run(`rollback to savepoint variant`);
  if (process.env['BENCH_FLOOR_VARIANTS']) {
    await run(`alter table crm.lead drop constraint lead_company_id_fkey`);
    await clock('noForeignKeyLead', insertLeads('crm.lead'));
    await run(`rollback to savepoint variant`);
    await run(`alter table crm.lead drop constraint lead_company_id_fkey`);
    await run(`create function crm.lock_all() returns trigger language plpgsql as $$ begin
      if (select count(*) from (select distinct company_id from new_lead where company_id is not null) w) <> (select count(*) from (select 1 from crm.company c where c.id in (select company_id from new_lead) for key share) l) then raise exception 'missing'; end if; return null; end $$`);
    await run(`create trigger lock_all after insert on crm.lead referencing new table as new_lead for each statement execute function crm.lock_all()`);
    await clock('statementLockAllLead', insertLeads('crm.lead'));
    await run(`rollback to savepoint variant`);
    await run(`alter table crm.lead drop constraint lead_company_id_fkey`);
    await run(`create function crm.lock_others() returns trigger language plpgsql as $$ begin
      if (select count(*) from (select distinct company_id from new_lead where company_id is not null) w) <> (select count(*) from crm.company c where c.id in (select company_id from new_lead) and c.xmin = pg_current_xact_id()::xid) + (select count(*) from (select 1 from crm.company c where c.id in (select company_id from new_lead) and c.xmin <> pg_current_xact_id()::xid for key share) l) then raise exception 'missing'; end if; return null; end $$`);
    await run(`create trigger lock_others after insert on crm.lead referencing new table as new_lead for each statement execute function crm.lock_others()`);
    await clock('statementLockOthersLead', insertLeads('crm.lead'));
    await run(`rollback to savepoint variant`);
  }
  return times;
}

/** Thrown to roll the merge back once it is measured. */
class RolledBack extends Error {}

const statements = new Map<string, number[]>();
const statementCpu = new Map<string, number[]>();
const merges: number[] = [];
const mergeCpu: number[] = [];
const floors: Array<Record<string, number>> = [];
for (let index = 0; index < runs; index += 1) {
  const log: Array<{ sql: string; ms: number; cpuMs: number }> = [];
  await app.database
    .forkForTenant(leadImport.tenantId)
    .transactional(async (transaction) => {
      const [backend] = await transaction.execute<Array<{ pid: number }>>(`select pg_backend_pid() as pid`);
      const pid = backend!.pid;
      // BENCH_EXPLAIN: the plans of statements over 300 ms, with their buffers and triggers, in the server's log.
      if (process.env['BENCH_EXPLAIN']) {
        await transaction.execute(`load 'auto_explain'`);
        for (const setting of ['log_min_duration = 300', 'log_analyze = on', 'log_buffers = on', 'log_triggers = on', 'log_nested_statements = on']) {
          await transaction.execute(`set local auto_explain.${setting}`);
        }
      }
      const cpuBefore = await processCpuMs(pid);
      const startedAt = performance.now();
      const counts = await mergeStagedImport(timed(transaction, pid, log), leadImport, null);
      merges.push(Math.round(performance.now() - startedAt));
      mergeCpu.push(Math.round((await processCpuMs(pid)) - cpuBefore));
      if (counts.imported !== Math.round(rows * 0.95)) throw new Error(`merge: ${JSON.stringify(counts)}`);
      floors.push(await floor(transaction, pid));
      throw new RolledBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  for (const { sql, ms, cpuMs } of log) {
    statements.set(sql, [...(statements.get(sql) ?? []), Math.round(ms)]);
    statementCpu.set(sql, [...(statementCpu.get(sql) ?? []), Math.round(cpuMs)]);
  }
}

// The same rows as consecutive chunks, each merged as if it were a file of its own, in one
// transaction: the leads and companies of earlier chunks are existing ones for later chunks.
const chunkCount = Number(process.env['BENCH_CHUNKS'] ?? 0);
const chunkedMerges: Array<Record<string, number>> = [];
if (chunkCount > 0) {
  const chunkTables: string[] = [];
  const chunkRows = Math.ceil(rows / chunkCount);
  for (let chunk = 0; chunk < chunkCount; chunk += 1) {
    const name = `${leadImport.stagingTable}_${chunk}`;
    await em.execute(`create unlogged table crm."${name}" as select * from crm."${leadImport.stagingTable}" where row_number > ? and row_number <= ?`, [chunk * chunkRows, (chunk + 1) * chunkRows]);
    chunkTables.push(name);
  }
  for (let index = 0; index < runs; index += 1) {
    await app.database
      .forkForTenant(leadImport.tenantId)
      .transactional(async (transaction) => {
        const [backend] = await transaction.execute<Array<{ pid: number }>>(`select pg_backend_pid() as pid`);
        const cpuBefore = await processCpuMs(backend!.pid);
        const startedAt = performance.now();
        const totals = { imported: 0, merged: 0, leadsUpdated: 0, companiesCreated: 0 };
        for (const stagingTable of chunkTables) {
          const counts = await mergeStagedImport(transaction, { ...leadImport, stagingTable } as LeadImport, null);
          for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += counts[key];
          // The merge's temporary tables live until its commit; the next chunk makes them again.
          const [temporary] = await transaction.execute<Array<{ tables: string | null }>>(
            `select string_agg(format('pg_temp.%I', relname), ', ') as tables from pg_class where relnamespace = pg_my_temp_schema() and relkind = 'r'`,
          );
          if (temporary?.tables) await transaction.execute(`drop table ${temporary.tables}`);
        }
        chunkedMerges.push({ ms: Math.round(performance.now() - startedAt), backendCpuMs: Math.round((await processCpuMs(backend!.pid)) - cpuBefore), ...totals });
        throw new RolledBack();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RolledBack)) throw error;
      });
  }
}

const slowest = [...statements].filter(([, times]) => Math.max(...times) >= 50).toSorted(([, a], [, b]) => Math.max(...b) - Math.max(...a));
process.stdout.write(
  `${JSON.stringify(
    {
      rows,
      runs,
      mergeMs: merges,
      mergeBackendCpuMs: mergeCpu,
      floor: floors,
      ...(chunkCount > 0 ? { chunks: chunkCount, chunkedMerges } : {}),
      statementsOver50Ms: Object.fromEntries(slowest.map(([sql, times]) => [sql, { ms: times, backendCpuMs: statementCpu.get(sql) }])),
      load: loadavg().map((value) => Number(value.toFixed(2))),
    },
    null,
    2,
  )}\n`,
);

await app.close();
// BENCH_KEEP_DATABASE leaves the staged database for EXPLAIN in psql (drop it afterwards).
if (process.env['BENCH_KEEP_DATABASE']) process.stdout.write(`kept ${setup.environment['DATABASE_URL']}\n`);
else await setup.dispose();
await rm(directory, { recursive: true, force: true });
