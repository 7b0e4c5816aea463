// Federated throughput: the project's gateway (every edge feature on: API-key authentication, rate
// limits, operation limits, usage metering, signed caller context), with subgraph fetch merging on
// and off, against bare @apollo/gateway and Hive Gateway (default, and with its in-flight dedupe
// off), all over the same five running subgraphs and the same seeded data. Each gateway runs in a
// process of its own; the load comes from this one.
//
// Rounds interleave the gateways (in a rotating order) so each sees the same machine noise. Per
// round: a serial phase (one request at a time, the gateways taking turns request by request; the
// latency a gateway adds), then per gateway a burst of 20 concurrent connections per operation.
// Reports medians over rounds of RPS, p50 and p99, ratios to bare Apollo, each gateway's memory
// after the run, and its GC pauses (over the run and inside its own bursts).
//
//   npm run bench:federation        (builds first; needs PostgreSQL and Redis like the tests)
//   BENCH_ROUNDS=5 BENCH_BURST_MS=5000 BENCH_CONNECTIONS=20 npm run bench:federation
//   BENCH_CPU_PROFILE_DIR=/tmp/profiles   writes a V8 CPU profile of each gateway process
//   BENCH_BURST_PROFILE_DIR=/tmp/profiles writes a V8 CPU profile of each gateway's own bursts only,
//                                         one file per burst (variant, operation, round)
//   BENCH_SUBGRAPH_CPU_PROFILE_DIR=/tmp/profiles  writes a V8 CPU profile of the subgraphs' process
//   BENCH_HEAP_PROFILE_DIR=/tmp/profiles  writes a sampling heap profile of each gateway process that
//                                         counts freed objects too (what each function allocates)
//   BENCH_VARIANTS=gtm,gtm-off,apollo     only these gateways (gtm, gtm-off, apollo, hive, hive-off;
//                                         diagnostics: gtm-off-no-auth, without authentication and
//                                         rate limits; gtm-arenas, merging on with MALLOC_ARENA_MAX=2;
//                                         gtm-before and gtm-off-before, the build in BENCH_BEFORE_DIST)
//   BENCH_BEFORE_DIST=/path/to/dist       an earlier build of apps/gateway (a copy of its dist
//                                         folder inside node_modules, so its imports resolve, with
//                                         apps/gateway/supergraph.graphql copied beside the folder)
//   BENCH_GATEWAY_NODE_FLAGS="--max-old-space-size=256"   Node flags of the project's gateway (default:
//                                         those of the Dockerfile and docker-compose.yml)
//   BENCH_BEFORE_NODE_FLAGS="..."         Node flags of the `-before` variants (default: BENCH_GATEWAY_NODE_FLAGS),
//                                         to compare flags side by side (BENCH_BEFORE_DIST may be this build)
//   BENCH_VARIANTS=...,gtm-flags BENCH_ALTERNATIVE_NODE_FLAGS="--max-semi-space-size=16"
//                                         merging on with other Node flags (default: none)
//   BENCH_PHASES=serial                   only the one-at-a-time phase (or only `burst`)
//   BENCH_OPERATIONS=updateLead           only the operations whose name contains one of these words
//   BENCH_SETTLE=false                    do not wait for the subgraphs' event backlog before each burst
//   BENCH_ORDER=rotated                   the gateways' order of the earlier runs (rotated each round:
//                                         each always after the same one), to compare with
import { fork, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createLogger } from '@gtm/runtime';
import { createSubgraphTestSetup, postGraphQL, uniqueRedisPrefix } from '@gtm/testing';
import pg from 'pg';
import { Pool } from 'undici';
import { tenantIdOf } from './bench-tenant.ts';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const burstMs = Number(process.env['BENCH_BURST_MS'] ?? 4_000);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 20);
const serialRequests = Number(process.env['BENCH_SERIAL_REQUESTS'] ?? 150);
const leadCount = 60;
const campaignCount = 25;

// ---- the subgraphs and the data -------------------------------------------------------------

const setup = await createSubgraphTestSetup();
const subgraphEnvironment = { ...setup.environment, NODE_ENV: 'production', REDIS_KEY_PREFIX: uniqueRedisPrefix(), LOG_LEVEL: 'silent', DATABASE_POOL_MAX: process.env['BENCH_SUBGRAPH_POOL_MAX'] ?? '8' };

interface Child {
  process: ChildProcess;
  url: string;
}

const profileDirectory = process.env['BENCH_CPU_PROFILE_DIR'];
const burstProfileDirectory = process.env['BENCH_BURST_PROFILE_DIR'];

// The project's gateway runs with the Node flags it is deployed with.
const gatewayNodeFlags = (process.env['BENCH_GATEWAY_NODE_FLAGS'] ?? '--max-old-space-size=256').split(' ').filter(Boolean);
const beforeNodeFlags = process.env['BENCH_BEFORE_NODE_FLAGS'] === undefined ? gatewayNodeFlags : process.env['BENCH_BEFORE_NODE_FLAGS'].split(' ').filter(Boolean);

async function startChild(file: string, variable: string, value: unknown, profiled = false, extraEnvironment: Record<string, string> = {}, nodeFlags: string[] = []): Promise<Child & { urls?: Record<string, string> }> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), {
    env: { ...process.env, ...extraEnvironment, [variable]: JSON.stringify(value) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...nodeFlags, ...(profiled && profileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] : [])],
  });
  const message = await new Promise<{ url?: string; urls?: Record<string, string> }>((resolve, reject) => {
    child.once('message', (first) => resolve(first as { url?: string; urls?: Record<string, string> }));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
  child.removeAllListeners('exit');
  return { process: child, url: message.url ?? '', urls: message.urls };
}

function ask<Answer>(child: ChildProcess, message: string): Promise<Answer> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as Answer));
    child.send(message);
  });
}

// BENCH_SUBGRAPH_CPU_PROFILE_DIR: a V8 CPU profile of the subgraphs' process over the whole run
// (written when it exits), to see what a request costs them.
const subgraphProfileDirectory = process.env['BENCH_SUBGRAPH_CPU_PROFILE_DIR'];
const subgraphs = await startChild('./federation-subgraphs.worker.ts', 'BENCH_SUBGRAPH_ENVIRONMENT', subgraphEnvironment, false, {}, subgraphProfileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${subgraphProfileDirectory}`] : []);
const subgraphUrls = subgraphs.urls!;
let stopping = false;
// Numbers measured against subgraphs that have gone are not numbers: stop instead (on a shared
// machine another suite can take PostgreSQL's last connections, and the subgraphs exit).
subgraphs.process.once('exit', (code) => {
  if (stopping) return;
  process.stderr.write(`the subgraphs exited (${code}) in the middle of the run; no results\n`);
  process.exit(1);
});

const silent = createLogger({ service: 'bench', level: 'silent' });
const registry = await openApiKeyRegistry({ databaseUrl: setup.environment['DATABASE_URL']!, logger: silent, poolMax: 1 });
const { key, apiKey } = await registry.apiKeys.createKey({ tenant: 'bench', tier: 'enterprise', scopes: ['read', 'write'] });
await registry.close();
const tenantId = await tenantIdOf(setup.environment['DATABASE_URL']!);
const caller = { tenantId, tenantSlug: 'bench', keyId: apiKey.id, tier: 'enterprise' as const, scopes: ['read' as const, 'write' as const] };

const committedSupergraph = await readFile(fileURLToPath(new URL('../../apps/gateway/supergraph.graphql', import.meta.url)), 'utf8');
// The bare gateways read where each subgraph listens from the supergraph itself.
const supergraphSdl = committedSupergraph.replace(/@join__graph\(name: "(\w+)", url: "[^"]*"\)/g, (whole, name: string) =>
  subgraphUrls[name] ? `@join__graph(name: "${name}", url: "${subgraphUrls[name]}")` : whole,
);

const gatewayEnvironment = (merging: boolean) => ({
  NODE_ENV: 'production',
  GATEWAY_PORT: '0',
  GATEWAY_HOST: '127.0.0.1',
  DATABASE_URL: setup.environment['DATABASE_URL']!,
  // API keys are read once per cache period and usage written once a second: two connections are
  // plenty, and five gateways with the default five would crowd a shared PostgreSQL.
  DATABASE_POOL_MAX: '2',
  REDIS_URL: setup.environment['REDIS_URL']!,
  REDIS_KEY_PREFIX: uniqueRedisPrefix(),
  LOG_LEVEL: 'silent',
  CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
  SECRETS_KEY: setup.environment['SECRETS_KEY']!,
  CAMPAIGN_SERVICE_URL: subgraphUrls['campaign']!,
  CONTENT_SERVICE_URL: subgraphUrls['content']!,
  ENRICHMENT_SERVICE_URL: subgraphUrls['enrichment']!,
  CRM_SERVICE_URL: subgraphUrls['crm']!,
  CONVERSATION_SERVICE_URL: subgraphUrls['conversation']!,
  // High enough that no request of the run is refused: the limiter still counts every one.
  RATE_LIMIT_ENTERPRISE_PER_MINUTE: '1000000000',
  RATE_LIMIT_ENTERPRISE_PER_DAY: '1000000000',
  SUBGRAPH_FETCH_MERGING: String(merging),
});

const allVariants = [
  { id: 'gtm', name: 'GTM Graph gateway', kind: 'gtm', environment: gatewayEnvironment(true), deduplicate: true },
  { id: 'gtm-off', name: 'GTM Graph, merging off', kind: 'gtm', environment: gatewayEnvironment(false), deduplicate: false },
  { id: 'apollo', name: 'bare @apollo/gateway', kind: 'apollo', environment: gatewayEnvironment(false), deduplicate: false },
  { id: 'hive', name: 'Hive Gateway (default)', kind: 'hive', environment: gatewayEnvironment(false), deduplicate: true },
  { id: 'hive-off', name: 'Hive, dedupe off', kind: 'hive', environment: gatewayEnvironment(false), deduplicate: false },
  // Diagnostics, only when named: what authentication and rate limiting add, and what glibc's
  // per-thread malloc arenas add to the resident size.
  { id: 'gtm-off-no-auth', name: 'GTM Graph, merging off, no auth/rate limit', kind: 'gtm', environment: gatewayEnvironment(false), deduplicate: false, withoutEdgeSecurity: true },
  { id: 'gtm-arenas', name: 'GTM Graph gateway, MALLOC_ARENA_MAX=2', kind: 'gtm', environment: gatewayEnvironment(true), deduplicate: true, processEnvironment: { MALLOC_ARENA_MAX: '2' } },
  { id: 'gtm-before', name: 'GTM Graph gateway, before', kind: 'gtm', environment: gatewayEnvironment(true), deduplicate: true, before: true },
  { id: 'gtm-off-before', name: 'GTM Graph, merging off, before', kind: 'gtm', environment: gatewayEnvironment(false), deduplicate: false, before: true },
  // Merging on with other Node flags (BENCH_ALTERNATIVE_NODE_FLAGS, default none: Node's own heap
  // sizing, as bare Apollo and Hive run): what the deployed flags do to the tail and to memory.
  { id: 'gtm-flags', name: process.env['BENCH_ALTERNATIVE_NODE_FLAGS'] ? `GTM Graph gateway, ${process.env['BENCH_ALTERNATIVE_NODE_FLAGS']}` : "GTM Graph gateway, Node's default heap sizing", kind: 'gtm', environment: gatewayEnvironment(true), deduplicate: true, alternativeFlags: true },
] as const;
const diagnostics = new Set(['gtm-off-no-auth', 'gtm-arenas', 'gtm-before', 'gtm-off-before', 'gtm-flags']);
const alternativeNodeFlags = (process.env['BENCH_ALTERNATIVE_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
const beforeDist = process.env['BENCH_BEFORE_DIST'];
// Bare Apollo is the baseline of every ratio, so it always runs.
const chosenVariants = process.env['BENCH_VARIANTS']?.split(',').map((id) => id.trim());
const variants = allVariants.filter((variant) => (chosenVariants ? variant.id === 'apollo' || chosenVariants.includes(variant.id) : !diagnostics.has(variant.id)));
const phases = new Set((process.env['BENCH_PHASES'] ?? 'serial,burst').split(',').map((phase) => phase.trim()));

const gateways: (Child & { name: string; id: string })[] = [];
for (const variant of variants) {
  const settings = { kind: variant.kind, environment: variant.environment, caller, supergraphSdl, deduplicate: variant.deduplicate, withoutEdgeSecurity: 'withoutEdgeSecurity' in variant, gatewayDist: 'before' in variant ? beforeDist : undefined };
  if ('before' in variant && !beforeDist) throw new Error(`${variant.id} needs BENCH_BEFORE_DIST`);
  const child = await startChild('./federation-gateway.worker.ts', 'BENCH_GATEWAY_SETTINGS', settings, true, 'processEnvironment' in variant ? variant.processEnvironment : {}, variant.kind !== 'gtm' ? [] : 'before' in variant ? beforeNodeFlags : 'alternativeFlags' in variant ? alternativeNodeFlags : gatewayNodeFlags);
  gateways.push({ ...child, name: variant.name, id: variant.id });
}

const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
const seed = async (query: string, variables: Record<string, unknown>) => {
  const answer = await postGraphQL(gateways[0]!.url, { query, variables }, headers);
  if (answer.errors) throw new Error(`seeding failed: ${JSON.stringify(answer.errors).slice(0, 300)}`);
  return answer.data as Record<string, { id: string }>;
};
const campaignIds: string[] = [];
for (let index = 0; index < campaignCount; index += 1) {
  const created = await seed('mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }', { input: { websiteUrl: `https://bench-${index}.example.com`, name: `Campaign ${index}` } });
  campaignIds.push(created['createCampaign']!.id);
}
const companyIds: string[] = [];
for (let index = 0; index < 12; index += 1) {
  const created = await seed('mutation ($input: CreateCompanyInput!) { createCompany(input: $input) { id } }', { input: { name: `Company ${index}`, websiteUrl: `https://bench-${index}.example.com` } });
  companyIds.push(created['createCompany']!.id);
}
const leadIds: string[] = [];
for (let index = 0; index < leadCount; index += 1) {
  const created = await seed('mutation ($input: CreateLeadInput!) { createLead(input: $input) { id } }', { input: { email: `lead${index}@bench.example`, firstName: `Lead${index}`, companyId: companyIds[index % companyIds.length] } });
  leadIds.push(created['createLead']!.id);
  await seed('mutation ($input: StartConversationInput!) { startConversation(input: $input) { id } }', { input: { leadId: created['createLead']!.id, campaignId: campaignIds[index % campaignIds.length], subject: `Hello ${index}` } });
}

// ---- the operations ---------------------------------------------------------------------------

let mutationCounter = 0;
const operations = [
  { name: 'campaigns(first: 20)', body: () => JSON.stringify({ query: 'query Campaigns { campaigns(first: 20) { edges { node { id name websiteUrl createdAt } } } }' }) },
  {
    name: 'leads(first: 50), 4 subgraphs',
    body: () =>
      JSON.stringify({
        query: 'query Leads { leads(first: 50) { edges { node { id email status company { name website { domain } } conversations { subject status campaign { name } } } } } }',
      }),
  },
  {
    name: 'mutation updateLead',
    body: () => {
      mutationCounter += 1;
      return JSON.stringify({ query: 'mutation Touch($id: ID!, $notes: String) { updateLead(id: $id, input: { notes: $notes }) { id notes } }', variables: { id: leadIds[mutationCounter % leadIds.length], notes: `bench ${mutationCounter}` } });
    },
  },
].filter((operation) => !process.env['BENCH_OPERATIONS'] || process.env['BENCH_OPERATIONS'].split(',').some((word) => operation.name.includes(word.trim())));

// Every gateway answers every operation the same, without errors, before anything is measured.
for (const gateway of gateways) {
  for (const operation of operations) {
    const answer = (await postGraphQL(gateway.url, JSON.parse(operation.body()) as { query: string }, headers)) as { errors?: unknown; data?: Record<string, { edges?: unknown[] }> };
    if (answer.errors) throw new Error(`${gateway.name} cannot answer ${operation.name}: ${JSON.stringify(answer.errors).slice(0, 400)}`);
    if (operation.name.startsWith('leads') && answer.data!['leads']!.edges!.length !== 50) throw new Error(`${gateway.name} answered ${operation.name} without 50 leads`);
  }
}

// ---- load -------------------------------------------------------------------------------------

interface Sample {
  requests: number;
  failures: number;
  latencies: number[];
  /** When each request was sent, ms after the burst began (in the order of `latencies`). */
  sentAt: number[];
  elapsedMs: number;
}

async function run(url: string, body: () => string, concurrency: number, until: { ms?: number; requests?: number }): Promise<Sample> {
  const origin = new URL(url);
  const pool = new Pool(origin.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let failures = 0;
  let sent = 0;
  const startedAt = performance.now();
  const deadline = until.ms === undefined ? Infinity : startedAt + until.ms;
  const limit = until.requests ?? Infinity;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && sent < limit) {
        sent += 1;
        const requestStartedAt = performance.now();
        const answer = await pool.request({ path: origin.pathname, method: 'POST', headers, body: body() });
        const text = await answer.body.text();
        latencies.push(performance.now() - requestStartedAt);
        sentAt.push(requestStartedAt - startedAt);
        if (answer.statusCode !== 200 || text.includes('"errors"')) failures += 1;
      }
    }),
  );
  const elapsedMs = performance.now() - startedAt;
  await pool.close();
  return { requests: latencies.length, failures, latencies, sentAt, elapsedMs };
}

const percentile = (values: number[], fraction: number) => {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? NaN;
};
const median = (values: number[]) => percentile(values, 0.5);

type Results = Map<string, { rps: number[]; p50: number[]; p99: number[]; allLatencies: number[]; slowestSentAt: number[]; ownCpuMs: number[]; burstRequests: number[]; othersCpuMs: number[]; subgraphsCpuMs: number[]; redisCpuMs: number[]; postgresCpuMs: number[]; serial: number[]; serialDifference: number[]; failures: number }>;
// When each burst ran (wall clock), to attribute the gateways' GC pauses to the burst they fell in.
const burstWindows: { gateway: string; operation: string; start: number; end: number }[] = [];
const results: Results = new Map();
const resultOf = (gateway: string, operation: string) => {
  const id = `${gateway}\n${operation}`;
  if (!results.has(id)) results.set(id, { rps: [], p50: [], p99: [], allLatencies: [], slowestSentAt: [], ownCpuMs: [], burstRequests: [], othersCpuMs: [], subgraphsCpuMs: [], redisCpuMs: [], postgresCpuMs: [], serial: [], serialDifference: [], failures: 0 });
  return results.get(id)!;
};

const baseline = 'bare @apollo/gateway';

/**
 * One request at a time, the gateways taking turns request by request (A, B, C, A, B, C, …), so the
 * n-th request of each meets the same moment of a shared machine: the difference of each pair is
 * what the gateway adds, with the machine's noise mostly cancelled.
 */
async function serialInTurn(order: { name: string; url: string }[], body: () => string): Promise<Map<string, number[]>> {
  const pools = order.map((gateway) => ({ gateway, origin: new URL(gateway.url), pool: new Pool(new URL(gateway.url).origin, { connections: 1, pipelining: 1, keepAliveTimeout: 30_000 }) }));
  const latencies = new Map(order.map((gateway) => [gateway.name, [] as number[]]));
  for (let index = 0; index < serialRequests; index += 1) {
    for (const { gateway, origin, pool } of pools) {
      const startedAt = performance.now();
      const answer = await pool.request({ path: origin.pathname, method: 'POST', headers, body: body() });
      await answer.body.text();
      latencies.get(gateway.name)!.push(performance.now() - startedAt);
    }
  }
  await Promise.all(pools.map(({ pool }) => pool.close()));
  return latencies;
}

// Warm-up: JIT, connection pools, the API-key cache, query plans.
for (const gateway of gateways) for (const operation of operations) await run(gateway.url, operation.body, connections, { ms: 1_000 });

// A mutation leaves work behind in the subgraphs: each `updateLead` commits a domain event, which
// crm-service's relay moves to a delivery and a graphile-worker job, and its consumer handles, all
// in the subgraphs' process and on the PostgreSQL every gateway's requests use. Whatever of that is
// still running when a burst ends is paid by the next burst, whoever's it is. So each burst starts
// once the backlog is gone (the events' outbox, their deliveries and their jobs), and the backlog
// found at each burst's end is reported with the time it took to drain.
const settleBursts = process.env['BENCH_SETTLE'] !== 'false';
const eventDatabase = new pg.Pool({ connectionString: setup.environment['DATABASE_URL']!, max: 1 });
const outboxSchemas = (await eventDatabase.query<{ table_schema: string }>(`select table_schema from information_schema.tables where table_name = 'event_outbox'`)).rows.map((row) => row.table_schema);
const eventBacklog = async (): Promise<number> => {
  const outboxes = outboxSchemas.map((schema) => `(select count(*) from "${schema}".event_outbox)`);
  const { rows } = await eventDatabase.query<{ backlog: string }>(
    `select ${[...outboxes, '(select count(*) from gtm_events.delivery where parked_at is null and (next_attempt_at is null or next_attempt_at <= now()))', '(select count(*) from gtm_worker._private_jobs where run_at <= now() and attempts < max_attempts)'].join(' + ')} as backlog`,
  );
  return Number(rows[0]!.backlog);
};
const backlogs = new Map<string, { atEnd: number[]; drainMs: number[] }>();
async function settle(gateway: string, operation: string): Promise<void> {
  const startedAt = performance.now();
  const atEnd = await eventBacklog();
  if (settleBursts) {
    let backlog = atEnd;
    while (backlog > 0 && performance.now() - startedAt < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      backlog = await eventBacklog();
    }
  }
  const id = `${gateway}\n${operation}`;
  if (!backlogs.has(id)) backlogs.set(id, { atEnd: [], drainMs: [] });
  backlogs.get(id)!.atEnd.push(atEnd);
  if (settleBursts) backlogs.get(id)!.drainMs.push(performance.now() - startedAt);
}
await settle('warm-up', 'warm-up');

// The order of the gateways changes every round, and not only by rotation: rotated, each gateway
// would always run right after the same one (bare Apollo's mutation burst after the same gateway's
// in every round), so whatever one burst leaves behind would always be paid by the same next one.
// A Williams design instead: over n rounds (2n for an odd number n of gateways, whose second n run
// backwards) each gateway takes each place once and follows each other gateway equally often.
const orderOf = (round: number) => {
  if (process.env['BENCH_ORDER'] === 'rotated') return gateways.map((_, index) => gateways[(index + round) % gateways.length]!);
  const count = gateways.length;
  const first = [0];
  for (let low = 1, high = count - 1; first.length < count; ) first.push(first.length % 2 === 1 ? low++ : high--);
  const order = first.map((index) => gateways[(index + round) % count]!);
  return Math.floor(round / count) % 2 === 1 ? order.toReversed() : order;
};

// Each process's CPU time so far (ms): what the other gateways burned while one was measured (a
// collection finishing after its own burst, say) is CPU the measured one did not have.
// Redis and PostgreSQL serve every gateway's requests too (the rate limit's script, usage rows, the
// subgraphs' queries): on a machine whose cores are all busy, what one gateway makes them do is CPU
// the others do not get. Read from /proc (Linux), every process of the two servers summed, in ms.
// USER_HZ, the unit of /proc's times, is 100 on Linux on every architecture Node ships for.
const clockTicksPerSecond = 100;
/** CPU time so far of each process of that name (Redis's `redis-server`, PostgreSQL's `postgres` backends), ms by pid. */
async function processesCpuMs(name: string): Promise<Map<string, number>> {
  const byProcess = new Map<string, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const nameEnd = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, nameEnd) !== name) continue;
    // Fields after the name: state is the 3rd field of the line, utime and stime the 14th and 15th.
    const fields = stat.slice(nameEnd + 2).split(' ');
    byProcess.set(entry, ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond);
  }
  return byProcess;
}
/** What the processes of `after` spent since `before`: a process that exited in between is not counted, one that started is counted whole. */
const cpuSpentSince = (before: Map<string, number>, after: Map<string, number>) => [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);
const cpuTimes = async () => {
  const times = new Map<string, number>();
  for (const gateway of gateways) times.set(gateway.name, await ask<number>(gateway.process, 'cpu'));
  times.set('subgraphs', await ask<number>(subgraphs.process, 'cpu'));
  return times;
};
const serverCpuTimes = async () => ({ redis: await processesCpuMs('redis-server'), postgres: await processesCpuMs('postgres') });

const queries = operations.filter((candidate) => !candidate.name.startsWith('mutation'));
const loads: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  const order = orderOf(round);
  for (const operation of phases.has('serial') ? queries : []) {
    const latencies = await serialInTurn(order, operation.body);
    const base = latencies.get(baseline)!;
    for (const gateway of order) {
      const result = resultOf(gateway.name, operation.name);
      const own = latencies.get(gateway.name)!;
      result.serial.push(median(own));
      result.serialDifference.push(median(own.map((latency, index) => latency - base[index]!)));
    }
  }
  for (const operation of phases.has('burst') ? operations : []) {
    for (const gateway of order) {
      const cpuBefore = await cpuTimes();
      const serversBefore = await serverCpuTimes();
      if (burstProfileDirectory) await ask(gateway.process, 'burst-profile-start');
      const start = performance.timeOrigin + performance.now();
      const sample = await run(gateway.url, operation.body, connections, { ms: burstMs });
      if (burstProfileDirectory) await ask(gateway.process, `burst-profile-stop:${burstProfileDirectory}/${gateway.id}-${operation.name.split(/\W/)[0]}-${round + 1}-${sample.requests}.cpuprofile`);
      burstWindows.push({ gateway: gateway.name, operation: operation.name, start, end: performance.timeOrigin + performance.now() });
      const cpuAfter = await cpuTimes();
      const serversAfter = await serverCpuTimes();
      const others = gateways.filter((other) => other !== gateway).reduce((sum, other) => sum + cpuAfter.get(other.name)! - cpuBefore.get(other.name)!, 0);
      const cpu = resultOf(gateway.name, operation.name);
      cpu.ownCpuMs.push(cpuAfter.get(gateway.name)! - cpuBefore.get(gateway.name)!);
      cpu.burstRequests.push(sample.requests);
      cpu.othersCpuMs.push(others);
      cpu.subgraphsCpuMs.push(cpuAfter.get('subgraphs')! - cpuBefore.get('subgraphs')!);
      cpu.redisCpuMs.push(cpuSpentSince(serversBefore.redis, serversAfter.redis));
      cpu.postgresCpuMs.push(cpuSpentSince(serversBefore.postgres, serversAfter.postgres));
      await settle(gateway.name, operation.name);
      const result = resultOf(gateway.name, operation.name);
      result.rps.push((sample.requests / sample.elapsedMs) * 1_000);
      result.p50.push(percentile(sample.latencies, 0.5));
      result.p99.push(percentile(sample.latencies, 0.99));
      // A burst of a slow operation has a few hundred requests, so its p99 is its second or third
      // slowest: the p99 of every round's requests together is the steadier figure.
      result.allLatencies.push(...sample.latencies);
      // Where in the burst its slowest 1 % were sent: a tail made at the burst's start (what the
      // burst before left behind, connections opening) is not the gateway's steady state.
      const p99 = percentile(sample.latencies, 0.99);
      result.slowestSentAt.push(...sample.sentAt.filter((_, index) => sample.latencies[index]! >= p99));
      result.failures += sample.failures;
    }
  }
  loads.push(loadavg()[0]!);
  process.stderr.write(`round ${round + 1}/${rounds} done, load average ${loads.at(-1)!.toFixed(1)}\n`);
}

interface MemoryUsage {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}
interface MemoryReport {
  /** Right after the run. */
  now: MemoryUsage;
  /** After a full collection: what is still referenced. */
  afterGc: MemoryUsage;
  gc: { count: number; totalMs: number; maximumMs: number; major: number };
  /** The first forced full collection, which the GC figures above do not include. */
  forcedGcMs: number;
}
const memory = new Map<string, MemoryReport>();
const gcPauses = new Map<string, { at: number; ms: number; major: boolean }[]>();
for (const gateway of gateways) gcPauses.set(gateway.name, await ask(gateway.process, 'gc-pauses'));
for (const gateway of gateways) memory.set(gateway.name, await ask<MemoryReport>(gateway.process, 'memory'));
// Idle for a while after the run, the way a gateway is between bursts: what V8 and malloc give back.
const idleMs = Number(process.env['BENCH_IDLE_MS'] ?? 30_000);
await new Promise((resolve) => setTimeout(resolve, idleMs));
const idleMemory = new Map<string, MemoryUsage>();
for (const gateway of gateways) idleMemory.set(gateway.name, (await ask<{ now: MemoryUsage }>(gateway.process, 'memory-now')).now);

// ---- report -----------------------------------------------------------------------------------

const format = (value: number, digits = 1) => value.toFixed(digits);
const print = (line: string) => process.stdout.write(`${line}\n`);
print(`\nFederated throughput: ${rounds} interleaved rounds, ${connections} connections, ${burstMs} ms bursts; medians over rounds. Ratios are to ${baseline}. Load average (1 min) after each round: ${loads.map((load) => load.toFixed(1)).join(', ')}.\n`);
for (const operation of operations) {
  print(`### ${operation.name}\n`);
  print('| gateway | RPS | × bare Apollo RPS | p50 ms | p99 ms | × bare Apollo p99 | p99 ÷ bare Apollo\'s in the same round, median | p99 of all rounds\' requests ms (× bare Apollo\'s) | one at a time, median ms (+ median of the differences to bare Apollo\'s request of the same turn) | failures |');
  print('|---|---|---|---|---|---|---|---|---|---|');
  const base = resultOf(baseline, operation.name);
  for (const gateway of gateways) {
    const result = resultOf(gateway.name, operation.name);
    const difference = median(result.serialDifference);
    const serial = result.serial.length ? `${format(median(result.serial), 2)} (${difference >= 0 ? '+' : ''}${format(difference, 2)})` : '—';
    if (!result.rps.length && !result.serial.length) continue;
    const burst = result.rps.length
      ? `${format(median(result.rps), 0)} | ${format(median(result.rps) / median(base.rps), 2)} | ${format(median(result.p50))} | ${format(median(result.p99))} | ${format(median(result.p99) / median(base.p99), 2)} | ${format(median(result.p99.map((p99, round) => p99 / base.p99[round]!)), 2)} | ${format(percentile(result.allLatencies, 0.99))} (${format(percentile(result.allLatencies, 0.99) / percentile(base.allLatencies, 0.99), 2)})`
      : '— | — | — | — | — | — | —';
    print(`| ${gateway.name} | ${burst} | ${serial} | ${result.failures} |`);
  }
  print('');
}
const mebibytes = (bytes: number) => format(bytes / 1024 / 1024, 0);
const usage = (taken: MemoryUsage) => `${mebibytes(taken.rss)} / ${mebibytes(taken.heapTotal)} / ${mebibytes(taken.heapUsed)} / ${mebibytes(taken.external)}`;
print(`Memory in MiB as RSS / V8 heap committed / heap used / external (buffers): right after the run, after a full GC, and ${idleMs / 1000} s idle later. GC pauses over the whole run (seeding and warm-up included, the forced full GC after the run not; its duration is the last column).\n`);
print('| gateway | after the run | after a full GC | idle | GC pauses (count, major) | GC pause total ms | longest GC pause ms | forced full GC ms |');
print('|---|---|---|---|---|---|---|---|');
for (const gateway of gateways) {
  const report = memory.get(gateway.name)!;
  print(
    `| ${gateway.name} | ${usage(report.now)} | ${usage(report.afterGc)} | ${usage(idleMemory.get(gateway.name)!)} | ${report.gc.count}, ${report.gc.major} | ${format(report.gc.totalMs, 0)} | ${format(report.gc.maximumMs)} | ${format(report.forcedGcMs)} |`,
  );
}

/** A table of one row per gateway and one cell per operation (`header` names the cells), after its caption. */
const printPerOperation = (caption: string, cell: (gateway: string, operation: string) => string, header = (operation: string) => operation) => {
  print(`\n${caption}\n`);
  print(`| gateway | ${operations.map((operation) => header(operation.name)).join(' | ')} |`);
  print(`|---|${operations.map((operation) => header(operation.name).split(' | ').map(() => '---').join('|')).join('|')}|`);
  for (const gateway of gateways) print(`| ${gateway.name} | ${operations.map((operation) => cell(gateway.name, operation.name)).join(' | ')} |`);
};
/** Whether a moment (wall clock, ms) fell inside one of the gateway's bursts of the operation. */
const insideBurstsOf = (gateway: string, operation: string) => {
  const windows = burstWindows.filter((window) => window.gateway === gateway && window.operation === operation);
  return (at: number) => windows.some((window) => at >= window.start && at < window.end);
};

printPerOperation("GC pauses that started inside the gateway's own bursts, all rounds together: count (major), total ms, longest minor and longest major pause ms.", (gateway, operation) => {
  const inside = gcPauses.get(gateway)!.filter((pause) => insideBurstsOf(gateway, operation)(pause.at));
  const longest = (major: boolean) => Math.max(0, ...inside.filter((pause) => pause.major === major).map((pause) => pause.ms));
  return `${inside.length} (${inside.filter((pause) => pause.major).length}), ${format(inside.reduce((sum, pause) => sum + pause.ms, 0), 0)}, ${format(longest(false))} / ${format(longest(true))}`;
});

// crm-service's own time for the requests it served inside each burst (every `updateLead` is one
// crm request; a query's fetches to crm are among several): its p99 against the gateway's.
const crmRequests = await ask<{ at: number; ms: number }[]>(subgraphs.process, 'crm-requests');
printPerOperation(
  "crm-service's own time for the requests it served inside each gateway's bursts (arrival to last byte, in its process), all rounds together: p50 / p99 ms, and the gateway's p99 of all rounds' requests for comparison.",
  (gateway, operation) => {
    const inside = crmRequests.filter((request) => insideBurstsOf(gateway, operation)(request.at)).map((request) => request.ms);
    if (!inside.length) return '—';
    return `${format(percentile(inside, 0.5))} / ${format(percentile(inside, 0.99))} (gateway ${format(percentile(resultOf(gateway, operation).allLatencies, 0.99))})`;
  },
);

/** Each burst's CPU of the gateway's own process per request it served. */
const ownCpuMsPerRequest = (result: ReturnType<typeof resultOf>) => result.ownCpuMs.map((ms, burst) => ms / result.burstRequests[burst]!);

// What a request costs the gateway's own process in CPU: steadier than its throughput on a shared
// machine, since time spent waiting for a core is not counted.
printPerOperation(
  "CPU time of each gateway's own process per request of its bursts (all its threads, the collector's included), ms: all rounds together; in brackets the median over the rounds (lowest – highest), and the median of its ratio to bare Apollo's in the same round (the machine's drift between rounds cancelled).",
  (gateway, operation) => {
    const result = resultOf(gateway, operation);
    const perRequest = ownCpuMsPerRequest(result);
    if (!perRequest.length) return '—';
    const together = result.ownCpuMs.reduce((sum, ms) => sum + ms, 0) / result.burstRequests.reduce((sum, count) => sum + count, 0);
    const base = ownCpuMsPerRequest(resultOf(baseline, operation));
    const ratio = median(perRequest.map((cpu, round) => cpu / base[round]!));
    return `${format(together, 3)} (${format(median(perRequest), 2)}, ${format(Math.min(...perRequest), 2)} – ${format(Math.max(...perRequest), 2)}; ×${format(ratio, 3)})`;
  },
);

printPerOperation(
  "CPU time the other gateways' processes used during each gateway's bursts (they have nothing to serve then), and the subgraphs' process, median over the rounds, ms per burst: others / subgraphs.",
  (gateway, operation) => {
    const result = resultOf(gateway, operation);
    return result.othersCpuMs.length ? `${format(median(result.othersCpuMs), 0)} (largest ${format(Math.max(...result.othersCpuMs), 0)}) / ${format(median(result.subgraphsCpuMs), 0)}` : '—';
  },
);

// What a request costs the whole machine but the load generator: the gateway's process, the
// subgraphs' and the two servers'. Two gateways at the same CPU of their own can still differ here
// (a rate-limit script in Redis, usage rows in PostgreSQL), and with every core busy it is this
// sum that sets the throughput.
printPerOperation(
  "CPU per request of its bursts, ms, all rounds together: gateway + subgraphs + Redis + PostgreSQL = total; in brackets the median over the rounds of the total's ratio to bare Apollo's in the same round.",
  (gateway, operation) => {
    const result = resultOf(gateway, operation);
    if (!result.burstRequests.length) return '—';
    const parts = (of: ReturnType<typeof resultOf>) => [of.ownCpuMs, of.subgraphsCpuMs, of.redisCpuMs, of.postgresCpuMs];
    const requests = result.burstRequests.reduce((sum, count) => sum + count, 0);
    const perRequest = parts(result).map((values) => values.reduce((sum, value) => sum + value, 0) / requests);
    const totals = (of: ReturnType<typeof resultOf>) => of.burstRequests.map((count, round) => parts(of).reduce((sum, values) => sum + values[round]!, 0) / count);
    const base = totals(resultOf(baseline, operation));
    const ratio = median(totals(result).map((total, round) => total / base[round]!));
    return `${perRequest.map((value) => format(value, 2)).join(' + ')} = ${format(perRequest.reduce((sum, value) => sum + value, 0), 2)} (×${format(ratio, 3)})`;
  },
);

// Inside each gateway's process: its own time and its subgraph fetches' for the slowest 1 % of the
// requests it served in its bursts, against the rest.
const served = new Map<string, { at: number; totalMs: number; fetchMs: number }[]>();
for (const gateway of gateways) served.set(gateway.name, await ask(gateway.process, 'served'));
printPerOperation(
  "Inside each gateway (its own measure, arrival to last byte), the requests it served in its bursts, all rounds together: the slowest 1 % (at or over their p99) and the other 99 %, each as median total ms = median subgraph fetches in flight + median of the gateway's own time (medians of each part, so they need not add up; in brackets: median ms of the gateway's GC pauses overlapping the request). For a query with merging on, a merged fetch counts for the first request only.",
  (gateway, operation) => {
    const inside = served.get(gateway)!.filter((request) => insideBurstsOf(gateway, operation)(request.at));
    if (!inside.length) return '— | —';
    const p99 = percentile(inside.map((request) => request.totalMs), 0.99);
    // How much of a request's time its gateway's collector held the process (pauses overlapping it).
    const pausedMs = (request: (typeof inside)[number]) =>
      gcPauses.get(gateway)!.reduce((sum, pause) => sum + Math.max(0, Math.min(pause.at + pause.ms, request.at + request.totalMs) - Math.max(pause.at, request.at)), 0);
    const describe = (chosen: typeof inside) =>
      `${format(median(chosen.map((request) => request.totalMs)))} = ${format(median(chosen.map((request) => request.fetchMs)))} + ${format(median(chosen.map((request) => request.totalMs - request.fetchMs)))} (GC ${format(median(chosen.map(pausedMs)))})`;
    return `${describe(inside.filter((request) => request.totalMs >= p99))} | ${describe(inside.filter((request) => request.totalMs < p99))}`;
  },
  (operation) => `${operation}: slowest 1 % | the other 99 %`,
);

printPerOperation(
  "The slowest 1 % of each burst's requests (at or over its p99), all rounds together: how many, and how many of them were sent in the burst's first 250 ms, first second, and later.",
  (gateway, operation) => {
    const sentAt = resultOf(gateway, operation).slowestSentAt;
    if (!sentAt.length) return '—';
    return `${sentAt.length}: ${sentAt.filter((at) => at < 250).length} / ${sentAt.filter((at) => at < 1_000).length} / ${sentAt.filter((at) => at >= 1_000).length}`;
  },
);

printPerOperation(
  `Events left in the subgraphs when each burst ended (outbox rows, deliveries and runnable jobs), median and largest over the rounds, and${settleBursts ? '' : ' (BENCH_SETTLE=false: not waited for)'} the time it took until none was left, median and longest ms.`,
  (gateway, operation) => {
    const backlog = backlogs.get(`${gateway}\n${operation}`);
    if (!backlog) return '—';
    const drain = backlog.drainMs.length ? `; ${format(median(backlog.drainMs), 0)} / ${format(Math.max(...backlog.drainMs), 0)} ms` : '';
    return `${median(backlog.atEnd)} / ${Math.max(...backlog.atEnd)}${drain}`;
  },
);
await eventDatabase.end();

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.send('close');
  });
stopping = true;
await Promise.all(gateways.map((gateway) => stop(gateway.process)));
await stop(subgraphs.process);
await setup.dispose();
