// The enrichment pipeline over the Florida dealer register (10,246 rows): every record's website
// found by a search (Serper, 100 ms), confirmed on the dealer's own site, analysed by content-service
// (its summary by the model, 300 ms), contacts read, then the personalisation and the
// qualification written by the model side by side (300 ms each, at once). The sites, Serper and
// OpenAI are local fakes on their own thread; content-service runs on a thread of its own as it would
// in its own process; enrichment-service and its job worker on the main thread, C records at once.
//
// L, one record's provider latency on its critical path, is search + summary + one of the two
// parallel model calls: 100 + 300 + 300 = 700 ms. The goal is 0.9 × C / L records per second.
//
// The register reaches the service as a user's file does: one job created with `upload: true`, the
// CSV PUT to its upload link (BENCH_SUBMIT=upload, the default). BENCH_SUBMIT=inline sends the rows
// in GraphQL bodies instead, at most 5,000 a job (2 MB at a subgraph): three jobs of one tenant that
// run one after the other, each ramping up and draining on its own.
//
//   npm run bench:enrichment                      (builds first; PostgreSQL and Redis as for the tests)
//   BENCH_RECORDS=1000 BENCH_CONCURRENCY=50 npm run bench:enrichment
//   BENCH_SUBMIT=inline npm run bench:enrichment
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { callerDelegationHeader, callerTokenHeader, createCallerTokenSigner } from '@gtm/caller';
import { createApp } from '@gtm/enrichment-service/app';
import { loadConfig } from '@gtm/enrichment-service/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphTestSetup, createTestCaller, postGraphQL, type LeadCompany } from '@gtm/testing';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { request } from 'undici';
import { DatabaseBackendCpu, machineSeconds } from './machine-cpu.ts';

const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 50);
const submission = process.env['BENCH_SUBMIT'] ?? 'upload';
if (submission !== 'upload' && submission !== 'inline') throw new Error(`BENCH_SUBMIT is upload or inline, not ${submission}`);
const searchMs = 100;
const modelMs = 300;
const criticalPathMs = searchMs + modelMs + modelMs;
// Inline records travel in the GraphQL body (at most 2 MB at a subgraph): 5,000 register rows fit.
const inlineMaximum = 5_000;

const rows = parse(readFileSync(new URL('../../fixtures/leads/florida-dealers-10k.csv', import.meta.url)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
const selected = rows.slice(0, Number(process.env['BENCH_RECORDS'] ?? rows.length));
const companies: LeadCompany[] = selected.map((row) => ({
  name: row['DEALER NAME']!,
  address: row['LOCATION ADDRESS']!,
  city: row['LOCATION CITY']!,
  state: row['STATE']!,
  zip: row['LOC ZIP']!,
  phone: row['PHONE']!,
  key: row['LIC NUMBER']!,
}));

function startWorker<Ready>(file: string, workerData: unknown): Promise<{ worker: Worker; ready: Ready }> {
  const worker = new Worker(new URL(file, import.meta.url), { workerData });
  return new Promise((resolve, reject) => {
    worker.once('message', (ready: Ready) => resolve({ worker, ready }));
    worker.once('error', reject);
  });
}

/** One line of the report on standard output. */
const print = (line: string) => process.stdout.write(`${line}\n`);

const ask = <Answer>(worker: Worker, message: string) =>
  new Promise<Answer>((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(message, []);
  });

const setup = await createSubgraphTestSetup();
const providers = await startWorker<{ port: number; serperUrl: string; openAiUrl: string; hosts: string[] }>('./providers.worker.ts', { companies, searchMs, modelMs });
const { port, serperUrl, openAiUrl, hosts } = providers.ready;
const allowlist = hosts.map((host) => `${host}:${port}`).join(',');
const model = { LLM_PROVIDERS: 'openai', OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: openAiUrl, OPENAI_MODEL: 'gpt-5-mini', LLM_CACHE_TTL_SECONDS: '0', LLM_MAX_RETRIES: '0', LLM_MAX_QUEUE: '5000' };
const content = await startWorker<{ url: string }>('./content.worker.ts', {
  environment: { ...setup.environment, DATABASE_POOL_MAX: '20', CONTENT_FETCH_ALLOWLIST: allowlist, LLM_MAX_CONCURRENCY: String(concurrency * 2), ...model },
});
const enrichment = await createApp(
  loadConfig({
    ...setup.environment,
    DATABASE_POOL_MAX: '20',
    CONTENT_SERVICE_URL: content.ready.url,
    CONTENT_SERVICE_MAX_CONCURRENCY: String(concurrency),
    CONTENT_FETCH_ALLOWLIST: allowlist,
    SERPER_API_KEY: 'serper-bench',
    SERPER_BASE_URL: serperUrl,
    SEARCH_MAX_CONCURRENCY: String(concurrency),
    ENRICHMENT_RECORD_CONCURRENCY: String(concurrency),
    JOB_WORKER_CONCURRENCY: '1',
    LLM_MAX_CONCURRENCY: String(concurrency * 2),
    ...model,
  }),
  {
    logger: createLogger({ service: 'bench', level: 'silent' }),
    resolveHost: async (hostname) => {
      if (hostname.endsWith('.test')) return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    },
  },
);

const caller = createTestCaller();
const delegation = await createCallerTokenSigner({ privateKeyPem: setup.callerKeys.keys.privateKeyPem, ttlSeconds: 3_600, delegated: true });
const records = selected.map((row) => ({
  companyName: row['DEALER NAME'],
  address: row['LOCATION ADDRESS'],
  city: row['LOCATION CITY'],
  state: row['STATE'],
  postalCode: row['LOC ZIP'],
  phone: row['PHONE'],
  email: row['EMAIL'] || null,
  fields: { COUNTY: row['COUNTY'], 'LIC TYPE': row['LIC TYPE'], 'LIC NUMBER': row['LIC NUMBER'] },
}));

const sql = enrichment.database.orm.em.getConnection();
// Transactions committed in the benchmark's database (both services' schemas): what each record costs PostgreSQL.
const committedTransactions = async () => Number((await sql.execute<Array<{ commits: string }>>(`select xact_commit as commits from pg_stat_database where datname = current_database()`))[0]!.commits);
const transactionsAtStart = await committedTransactions();
// The CPU of the backends serving the benchmark's database (both services' pools), and the machine's.
const backendCpu = new DatabaseBackendCpu(async () =>
  (await sql.execute<Array<{ pid: number }>>(`select pid from pg_stat_activity where datname = current_database()`)).map((row) => Number(row.pid)),
);
await backendCpu.sample();
const machineAtStart = machineSeconds();
const cpuAtStart = process.cpuUsage();
// How busy each thread's event loop was: where the CPU of this process went.
const { performance } = await import('node:perf_hooks');
const utilizationAtStart = { enrichment: performance.eventLoopUtilization(), content: content.worker.performance.eventLoopUtilization(), providers: providers.worker.performance.eventLoopUtilization() };
const loadAtStart = os.loadavg().map((value) => value.toFixed(1)).join(' ');
const startedAt = Date.now();
// The register goes in as consecutive jobs of 5,000 rows of one tenant,
// which run one after the other (one enrichment at a time per tenant), as one file would.
const jobIds: string[] = [];
const callerHeaders = async () => ({ [callerTokenHeader]: await setup.callerKeys.signer.sign(caller), [callerDelegationHeader]: await delegation.sign(caller) });
if (submission === 'upload') {
  // The register's own columns, as the user's file has them (the first BENCH_RECORDS rows).
  const file = stringify(selected, { header: true, columns: Object.keys(rows[0]!) });
  const answer = await postGraphQL(enrichment.url, { query: `mutation { createEnrichmentJob(input: { name: "florida-dealers.csv", upload: true }) { id uploadUrl } }` }, await callerHeaders());
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  const ticket = String(answer.data!['createEnrichmentJob'].uploadUrl).split('/').at(-1);
  const response = await request(`${new URL(enrichment.url).origin}/files/${ticket}`, { method: 'PUT', headers: { ...(await callerHeaders()), 'content-type': 'text/csv' }, body: file });
  const uploaded = (await response.body.json()) as { rows?: number };
  if (response.statusCode !== 200 || uploaded.rows !== selected.length) throw new Error(`the upload answered ${response.statusCode}: ${JSON.stringify(uploaded).slice(0, 300)}`);
  jobIds.push(answer.data!['createEnrichmentJob'].id);
}
const inlineRecords = submission === 'inline' ? records : [];
for (let offset = 0; offset < inlineRecords.length; offset += inlineMaximum) {
  const answer = await postGraphQL(
    enrichment.url,
    { query: `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id } }`, variables: { input: { name: `florida-dealers-${offset}.csv`, records: inlineRecords.slice(offset, offset + inlineMaximum) } } },
    await callerHeaders(),
  );
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  jobIds.push(answer.data!['createEnrichmentJob'].id);
}
const submittedMs = Date.now() - startedAt;

const samples: Array<{ seconds: number; processed: number }> = [];
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const [state] = await sql.execute<Array<{ processed: string; running: string }>>(
    `select sum(completed + failed) as processed, count(*) filter (where status in ('QUEUED', 'RUNNING')) as running from enrichment.job where id in (${jobIds.map(() => '?').join(', ')})`,
    jobIds,
  );
  samples.push({ seconds: (Date.now() - startedAt) / 1000, processed: Number(state!.processed) });
  await backendCpu.sample();
  const heaps = await Promise.all([content.worker, providers.worker].map((worker) => worker.getHeapStatistics().then((heap) => Math.round(heap.used_heap_size / 1e6))));
  process.stderr.write(`\r${samples.at(-1)!.seconds.toFixed(0)} s: ${state!.processed} of ${records.length}, heap MB enrichment ${Math.round(process.memoryUsage().heapUsed / 1e6)} content ${heaps[0]} providers ${heaps[1]}, RSS ${Math.round(process.memoryUsage().rss / 1e6)} external ${Math.round(process.memoryUsage().external / 1e6)} buffers ${Math.round(process.memoryUsage().arrayBuffers / 1e6)}   `);
  if (Number(state!.running) === 0) break;
}
const [{ finished }] = (await sql.execute<Array<{ finished: Date }>>(`select max(finished_at) as finished from enrichment.job where id in (${jobIds.map(() => '?').join(', ')})`, jobIds)) as [{ finished: Date }];
const wallSeconds = (new Date(finished).getTime() - startedAt) / 1000;
const cpu = process.cpuUsage(cpuAtStart);
const machine = machineSeconds(machineAtStart);
await backendCpu.sample();
const databaseCpu = backendCpu.spent();
const utilization = {
  enrichment: performance.eventLoopUtilization(utilizationAtStart.enrichment).utilization,
  content: content.worker.performance.eventLoopUtilization(utilizationAtStart.content).utilization,
  providers: providers.worker.performance.eventLoopUtilization(utilizationAtStart.providers).utilization,
};
process.stderr.write('\n');

// PostgreSQL publishes a backend's counts when it goes idle, at most once a second.
await new Promise((resolve) => setTimeout(resolve, 1_500));
const transactions = (await committedTransactions()) - transactionsAtStart;
const statuses = await sql.execute<Array<{ status: string; count: string }>>(`select status, count(*) from enrichment.enrichment_record group by status order by status`);
const costs = (await sql.execute<Array<{ cost_usd: number }>>(`select cost_usd from enrichment.enrichment_record order by cost_usd`)).map((row) => Number(row.cost_usd));
const steps = await sql.execute<Array<{ step: string; status: string; count: string; median: number; p95: number }>>(
  `select outcome->>'step' as step, outcome->>'status' as status, count(*),
          percentile_disc(0.5) within group (order by (outcome->>'durationMs')::int) as median,
          percentile_disc(0.95) within group (order by (outcome->>'durationMs')::int) as p95
     from enrichment.enrichment_record, jsonb_array_elements(step_outcomes) as outcome group by 1, 2 order by min(position), 1, 2`,
);
const processedAt = await sql.execute<Array<{ query: string; processed_at: Date }>>(
  `select lower(r.company_name || ' ' || r.city || ' ' || r.region) as query, i.processed_at from enrichment.enrichment_record r join enrichment.job_item i on i.job_id = r.job_id and i.item_key = r.position::text`,
);
const failureNotes = await sql.execute<Array<{ step: string; note: string; count: string }>>(
  `select outcome->>'step' as step, regexp_replace(regexp_replace(outcome->>'note', '\\s+', ' ', 'g'), 'for "[^"]*"|[a-z0-9-]+\\.test(:\\d+)?', '…', 'g') as note, count(*)
     from enrichment.enrichment_record, jsonb_array_elements(step_outcomes) as outcome where outcome->>'status' = 'FAILED' group by 1, 2 order by 3 desc limit 5`,
);
const report = await ask<{ searchedAt: Array<[string, number]>; searches: number; modelCalls: number; pageRequests: number }>(providers.worker, 'report');
const searched = new Map(report.searchedAt);
const latencies = processedAt
  .map((row) => (searched.has(row.query) ? new Date(row.processed_at).getTime() - searched.get(row.query)! : null))
  .filter((value): value is number => value !== null)
  .toSorted((left, right) => left - right);
const quantile = (values: number[], share: number) => values[Math.min(values.length - 1, Math.floor(share * values.length))] ?? 0;

const throughput = records.length / wallSeconds;
const goal = (0.9 * concurrency) / (criticalPathMs / 1000);
const perRecord = (seconds: number) => ((seconds * 1000) / records.length).toFixed(1);
const meanCost = costs.reduce((sum, cost) => sum + cost, 0) / costs.length;
print(`Run of ${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, ${records.length.toLocaleString('en-US')} records, C = ${concurrency}, L = ${criticalPathMs} ms (search ${searchMs} + model ${modelMs} + model ${modelMs}):\n`);
print('| measure | value |');
print('|---|---|');
print(`| whole file, submission to last record | ${wallSeconds.toFixed(1)} s (submitting ${records.length.toLocaleString('en-US')} records ${submission === 'upload' ? 'as one uploaded CSV file' : `inline, in ${jobIds.length} jobs`}: ${(submittedMs / 1000).toFixed(1)} s) |`);
print(`| throughput | ${throughput.toFixed(1)} records/s |`);
print(`| goal 0.9 × C / L | ${goal.toFixed(1)} records/s (ratio ${(throughput / goal).toFixed(2)}) |`);
print(`| ideal C / L | ${(concurrency / (criticalPathMs / 1000)).toFixed(1)} records/s (ratio ${(throughput / (concurrency / (criticalPathMs / 1000))).toFixed(2)}) |`);
print(`| per-record latency, first search to commit: median / p95 | ${quantile(latencies, 0.5)} ms / ${quantile(latencies, 0.95)} ms (L = ${criticalPathMs} ms) |`);
print(`| cost per record: mean / median / max | $${meanCost.toFixed(5)} / $${quantile(costs, 0.5).toFixed(5)} / $${costs.at(-1)!.toFixed(5)} |`);
print(`| searches / model calls / page requests | ${report.searches.toLocaleString('en-US')} / ${report.modelCalls.toLocaleString('en-US')} / ${report.pageRequests.toLocaleString('en-US')} |`);
print(`| CPU (all threads of this process) | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, ${(((cpu.user + cpu.system) / 1e6 / wallSeconds) * 100).toFixed(0)} % of one core, ${perRecord((cpu.user + cpu.system) / 1e6)} ms a record |`);
print(`| CPU of the process: user / system (kernel) | ${(cpu.user / 1e6).toFixed(1)} s / ${(cpu.system / 1e6).toFixed(1)} s (${perRecord(cpu.user / 1e6)} / ${perRecord(cpu.system / 1e6)} ms a record) |`);
print(`| CPU of this database's PostgreSQL backends (${databaseCpu.backends}): user / system | ${databaseCpu.user.toFixed(1)} s / ${databaseCpu.system.toFixed(1)} s (${perRecord(databaseCpu.user + databaseCpu.system)} ms a record) |`);
print(`| CPU per record, process + its PostgreSQL backends | **${perRecord((cpu.user + cpu.system) / 1e6 + databaseCpu.user + databaseCpu.system)} ms** |`);
print(`| the machine (all processes, ${os.availableParallelism()} cores): user / system / idle | ${machine.user.toFixed(1)} s / ${machine.system.toFixed(1)} s / ${machine.idle.toFixed(1)} s (busy ${perRecord(machine.user + machine.system)} ms a record; load average at start ${loadAtStart}) |`);
print(`| PostgreSQL transactions committed (both services) | ${transactions.toLocaleString('en-US')}, ${(transactions / records.length).toFixed(1)} a record |`);
print(`| event loop busy: enrichment / content / fake providers thread | ${Object.values(utilization).map((value) => `${(value * 100).toFixed(0)} %`).join(' / ')} |`);
print(`| records by status | ${statuses.map((row) => `${row.status} ${Number(row.count).toLocaleString('en-US')}`).join(', ')} |`);
print(`\n| step | outcome | records | median ms | p95 ms |\n|---|---|---|---|---|`);
for (const row of steps) print(`| ${row.step} | ${row.status} | ${Number(row.count).toLocaleString('en-US')} | ${row.median} | ${row.p95} |`);
print(`\nMost frequent failures: ${failureNotes.map((row) => `${row.step} × ${row.count}: ${row.note.slice(0, 400)}`).join(' | ')}`);
print(`\nProgress (s → records): ${samples.filter((_sample, index) => index % 10 === 9 || index === samples.length - 1).map((sample) => `${sample.seconds.toFixed(0)} → ${sample.processed}`).join(', ')}`);

if (process.env['BENCH_HEAP_SNAPSHOT']) {
  const { writeHeapSnapshot } = await import('node:v8');
  print(`heap snapshot: ${writeHeapSnapshot(process.env['BENCH_HEAP_SNAPSHOT'])}`);
}
await enrichment.close();
await Promise.all([content.worker.terminate(), providers.worker.terminate()]);
await setup.dispose();
process.exit(0);
