// Whether the gateway's memory stays flat under steady load: the gateway runs as its own process
// (`node apps/gateway/dist/main.js`, as docker-compose runs it), the five subgraphs in this one,
// and this process sends a steady mix of requests for a warm-up, then for the measured period,
// sampling the gateway's resident set (VmRSS in /proc) and its V8 heap (its /metrics) as it goes.
// The mix covers what a gateway meets in a day: federated reads across subgraphs, writes, the
// gateway's own usage and job-progress fields, client errors (validation, an unknown operation
// name, text PostgreSQL cannot store, a rate limit), many API keys and request ids, and WebSocket
// clients that connect, run an operation and leave. A leak shows as a resident set that keeps
// growing after warm-up; the goal is every sample within ±10 % of the first one after warm-up.
//
//   npm run bench:gateway-memory      (builds first; needs PostgreSQL and Redis like the tests)
//   BENCH_WARMUP_SECONDS=120 BENCH_SECONDS=600 BENCH_CONCURRENCY=8 BENCH_SAMPLE_SECONDS=10 npm run bench:gateway-memory   (the defaults)
//   BENCH_GATEWAY_NODE_FLAGS="" npm run bench:gateway-memory      (the gateway on Node's default heap sizing)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createApp as createCampaignApp } from '@gtm/campaign-service/app';
import { loadConfig as loadCampaignConfig } from '@gtm/campaign-service/config';
import { createApp as createContentApp } from '@gtm/content-service/app';
import { loadConfig as loadContentConfig } from '@gtm/content-service/config';
import { createApp as createConversationApp } from '@gtm/conversation-service/app';
import { loadConfig as loadConversationConfig } from '@gtm/conversation-service/config';
import { createApp as createCrmApp } from '@gtm/crm-service/app';
import { loadConfig as loadCrmConfig } from '@gtm/crm-service/config';
import { createApp as createEnrichmentApp } from '@gtm/enrichment-service/app';
import { loadConfig as loadEnrichmentConfig } from '@gtm/enrichment-service/config';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createLogger } from '@gtm/runtime';
import { createGraphQLWebSocketClient, createSubgraphTestSetup, uniqueRedisPrefix } from '@gtm/testing';
import { Agent, request } from 'undici';

const warmupMs = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 120) * 1000;
const measuredMs = Number(process.env['BENCH_SECONDS'] ?? 600) * 1000;
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const sampleMs = Number(process.env['BENCH_SAMPLE_SECONDS'] ?? 10) * 1000;
const keyCount = 20;
const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));

const say = (line: string) => process.stdout.write(`${line}\n`);

// ─── The stack ────────────────────────────────────────────────────────────────────────────────

const setup = await createSubgraphTestSetup();
const silent = createLogger({ service: 'bench', level: 'silent' });
const redisKeyPrefix = uniqueRedisPrefix();
const environment: Record<string, string> = { ...setup.environment, REDIS_KEY_PREFIX: redisKeyPrefix, LOG_LEVEL: 'silent' };
const content = await createContentApp(loadContentConfig(environment), { logger: silent });
const subgraphApps = {
  campaign: await createCampaignApp(loadCampaignConfig({ ...environment, CONTENT_SERVICE_URL: content.url }), { logger: silent }),
  content,
  enrichment: await createEnrichmentApp(loadEnrichmentConfig(environment), { logger: silent }),
  crm: await createCrmApp(loadCrmConfig(environment), { logger: silent }),
  conversation: await createConversationApp(loadConversationConfig(environment), { logger: silent }),
};

const databaseUrl = environment['DATABASE_URL']!;
const registry = await openApiKeyRegistry({ databaseUrl, logger: silent, poolMax: 1 });
const keys: string[] = [];
for (let index = 0; index < keyCount; index += 1) {
  keys.push((await registry.apiKeys.createKey({ tenant: `soak-${index % 5}`, tier: 'enterprise', scopes: ['read', 'write'] })).key);
}
// One free key kept over its limit, so refusals (429) are part of the mix.
const limitedKey = (await registry.apiKeys.createKey({ tenant: 'soak-free', tier: 'free', scopes: ['read'] })).key;
await registry.close();

const gatewayPort = 4800 + Math.floor(Math.random() * 100);
const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
// Node flags of the gateway process: by default those docker-compose runs it with (decision 0029);
// BENCH_GATEWAY_NODE_FLAGS="" runs it with Node's defaults, for comparison.
const gatewayNodeFlags = (process.env['BENCH_GATEWAY_NODE_FLAGS'] ?? '--max-old-space-size=256').split(' ').filter(Boolean);
const gatewayProcess = spawn(process.execPath, [...gatewayNodeFlags, 'apps/gateway/dist/main.js'], {
  cwd: workspaceRoot,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    PATH: process.env['PATH'],
    NODE_ENV: 'production',
    GATEWAY_PORT: String(gatewayPort),
    DATABASE_URL: databaseUrl,
    REDIS_URL: environment['REDIS_URL'],
    REDIS_KEY_PREFIX: redisKeyPrefix,
    LOG_LEVEL: 'error',
    CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
    CAMPAIGN_SERVICE_URL: subgraphApps.campaign.url,
    CONTENT_SERVICE_URL: subgraphApps.content.url,
    ENRICHMENT_SERVICE_URL: subgraphApps.enrichment.url,
    CRM_SERVICE_URL: subgraphApps.crm.url,
    CONVERSATION_SERVICE_URL: subgraphApps.conversation.url,
    RATE_LIMIT_ENTERPRISE_PER_MINUTE: '1000000000',
    RATE_LIMIT_ENTERPRISE_PER_DAY: '1000000000',
    RATE_LIMIT_FREE_PER_MINUTE: '5',
  },
});
const gatewayExited = new Promise((resolve) => gatewayProcess.once('exit', resolve));

for (let attempt = 0; ; attempt += 1) {
  try {
    const health = await fetch(gatewayUrl.replace('/graphql', '/health/live'));
    if (health.ok) break;
  } catch {
    // Not listening yet.
  }
  if (attempt > 300) throw new Error('the gateway did not start');
  await new Promise((resolve) => setTimeout(resolve, 100));
}

// ─── The load ─────────────────────────────────────────────────────────────────────────────────

interface Operation {
  name: string;
  key?: () => string;
  body: () => Record<string, unknown>;
}

let counter = 0;
const anyKey = () => keys[counter % keys.length]!;
const operations: Operation[] = [
  { name: 'typename', body: () => ({ query: '{ __typename }' }) },
  {
    name: 'leads across crm and conversation',
    body: () => ({ query: 'query Leads($first: Int!) { leads(first: $first) { edges { node { id email company { name } conversations { subject } } } } }', variables: { first: 1 + (counter % 10) } }),
  },
  { name: 'campaigns with websites', body: () => ({ query: 'query Campaigns { campaigns(first: 5) { edges { node { id name website { domain } } } } }', operationName: 'Campaigns' }) },
  {
    name: 'create a lead',
    body: () => ({ query: 'mutation CreateLead($input: CreateLeadInput!) { createLead(input: $input) { id } }', variables: { input: { email: `soak-${randomUUID()}@example.com`, firstName: 'Soak' } } }),
  },
  {
    name: 'create a campaign',
    body: () => ({ query: 'mutation CreateCampaign($input: CreateCampaignInput!) { createCampaign(input: $input) { id name } }', variables: { input: { websiteUrl: `https://soak-${counter % 50}.example.com` } } }),
  },
  { name: 'usage', body: () => ({ query: `query Usage { usage(from: "2026-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { requests { total failed } outcomes { outcome requests } } }` }) },
  { name: 'job progress of an unknown job', body: () => ({ query: 'query Progress($id: ID!) { jobProgress(jobId: $id) { status } }', variables: { id: randomUUID() } }) },
  { name: 'enrichment jobs and data sources', body: () => ({ query: '{ enrichmentJobs(first: 5) { edges { node { name status } } } dataSources { name } }' }) },
  { name: 'validation error', body: () => ({ query: `{ leads(first: 1) { edges { node { unknownField${counter % 20} } } } }` }) },
  { name: 'unknown operation name', body: () => ({ query: 'query A { __typename } query B { __typename }', operationName: `C${counter % 20}` }) },
  { name: 'text PostgreSQL cannot store', body: () => ({ query: 'query Find($search: String) { leads(filter: { search: $search }) { edges { node { id } } } }', variables: { search: 'a\u0000' } }) },
  { name: 'over the rate limit', key: () => limitedKey, body: () => ({ query: '{ __typename }' }) },
];

const agent = new Agent({ keepAliveTimeout: 30_000, connections: concurrency * 2 });
const answered: Record<string, number> = {};
let failures = 0;

async function send(operation: Operation): Promise<void> {
  counter += 1;
  const response = await request(gatewayUrl, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${(operation.key ?? anyKey)()}`, 'x-request-id': `soak-${counter}` },
    body: JSON.stringify(operation.body()),
  });
  await response.body.text();
  answered[operation.name] = (answered[operation.name] ?? 0) + 1;
  if (response.statusCode >= 500) failures += 1;
}

const load = { running: true };
async function client(index: number): Promise<void> {
  let position = index;
  while (load.running) {
    await send(operations[position % operations.length]!).catch(() => (failures += 1));
    position += 1;
  }
}

/** WebSocket clients come and go: connect, run one query, leave. */
async function webSocketChurn(): Promise<void> {
  while (load.running) {
    const socket = createGraphQLWebSocketClient(gatewayUrl, { authorization: `Bearer ${anyKey()}` });
    await new Promise<void>((resolve) => {
      socket.subscribe({ query: 'query Progress($id: ID!) { jobProgress(jobId: $id) { status } }', variables: { id: randomUUID() } }, { next: () => {}, error: () => resolve(), complete: () => resolve() });
    });
    await socket.dispose();
    answered['WebSocket client'] = (answered['WebSocket client'] ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// ─── Sampling ─────────────────────────────────────────────────────────────────────────────────

interface Sample {
  atSeconds: number;
  rssMb: number;
  heapUsedMb: number;
  /** What V8 has reserved for its heap, used or not. */
  heapTotalMb: number;
  /** Memory outside the V8 heap that JavaScript objects hold (Buffers). */
  externalMb: number;
  requests: number;
}

function residentSetMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function heapOf(): Promise<{ heapUsedMb: number; heapTotalMb: number; externalMb: number }> {
  const text = await (await fetch(gatewayUrl.replace('/graphql', '/metrics'))).text();
  const megabytes = (metric: string) => {
    const match = new RegExp(`^${metric} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) / 1024 / 1024 : Number.NaN;
  };
  return { heapUsedMb: megabytes('nodejs_heap_size_used_bytes'), heapTotalMb: megabytes('nodejs_heap_size_total_bytes'), externalMb: megabytes('nodejs_external_memory_bytes') };
}

const megabytes = (value: number) => value.toFixed(0).padStart(4);
const totalRequests = () => Object.values(answered).reduce((sum, count) => sum + count, 0);
const startedAt = performance.now();
const samples: Sample[] = [];
const sample = async (): Promise<Sample> => {
  const taken = { atSeconds: Math.round((performance.now() - startedAt) / 1000), rssMb: residentSetMb(gatewayProcess.pid!), ...(await heapOf()), requests: totalRequests() };
  samples.push(taken);
  say(`  ${String(taken.atSeconds).padStart(5)} s  RSS ${megabytes(taken.rssMb)} MB  heap used ${megabytes(taken.heapUsedMb)} of ${megabytes(taken.heapTotalMb)} MB  external ${megabytes(taken.externalMb)} MB  ${taken.requests} requests`);
  return taken;
};

const loops = [...Array.from({ length: concurrency }, (_, index) => client(index)), webSocketChurn()];
say(`gateway pid ${gatewayProcess.pid}; warm-up ${warmupMs / 1000} s, then ${measuredMs / 1000} s measured, ${concurrency} clients`);
await sample();
const sampler = setInterval(() => void sample(), sampleMs);
await new Promise((resolve) => setTimeout(resolve, warmupMs));
const afterWarmup = await sample();
await new Promise((resolve) => setTimeout(resolve, measuredMs));
clearInterval(sampler);
const last = await sample();
load.running = false;
await Promise.all(loops);

// ─── Report ───────────────────────────────────────────────────────────────────────────────────

const measured = samples.filter((taken) => taken.atSeconds >= afterWarmup.atSeconds);
const rss = measured.map((taken) => taken.rssMb);
const sorted = rss.toSorted((left, right) => left - right);
const median = sorted[Math.floor(sorted.length / 2)]!;
const deviation = Math.max(...rss.map((value) => Math.abs(value - afterWarmup.rssMb) / afterWarmup.rssMb)) * 100;
const seconds = (last.atSeconds - afterWarmup.atSeconds) || 1;
say('\nrequests answered, by operation:');
for (const [name, count] of Object.entries(answered)) say(`  ${name}: ${count}`);
say(`5xx or failed requests: ${failures}`);
say(`\nmeasured period: ${seconds} s, ${((last.requests - afterWarmup.requests) / seconds).toFixed(0)} requests/s`);
say(
  `gateway RSS after warm-up ${afterWarmup.rssMb.toFixed(0)} MB, at the end ${last.rssMb.toFixed(0)} MB (ratio ${(last.rssMb / afterWarmup.rssMb).toFixed(3)}), ` +
    `min ${sorted[0]!.toFixed(0)}, median ${median.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)} MB; largest deviation from the first measured sample ${deviation.toFixed(1)} %`,
);
say(`heap used after warm-up ${afterWarmup.heapUsedMb.toFixed(0)} MB, at the end ${last.heapUsedMb.toFixed(0)} MB`);
say(deviation <= 10 ? 'flat: every measured sample within ±10 %' : 'NOT flat: a measured sample is more than 10 % away');

gatewayProcess.kill('SIGTERM');
await gatewayExited;
await agent.close();
await Promise.all(Object.values(subgraphApps).map((app) => app.close()));
await setup.dispose();
