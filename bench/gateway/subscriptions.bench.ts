// Subscriptions at the gateway: how long a job's progress event takes from the worker's write to
// Redis until a client has it, with 1,000 subscriptions open on one gateway, and how much memory
// each open subscription costs the gateway.
//
//   npm run bench:subscriptions      (builds first; needs PostgreSQL and Redis like the tests)
//   BENCH_ROUNDS=5 BENCH_SUBSCRIPTIONS=2000 npm run bench:subscriptions
//
// This process runs the gateway alone (started with --expose-gc, so memory is read after full
// collections); the clients and the worker's part run in a child process (subscriptions.client.ts)
// that times each event on one clock, from just before the Redis write to the `next` message.
// Each round: open the connections, 1,000 subscriptions to 1,000 jobs, events one at a time to
// random jobs; then 1,000 subscriptions to one job and events that reach all of them. Reported:
// medians over the rounds of each round's p50 and p99, and of the memory deltas.
import { fork, type ChildProcess } from 'node:child_process';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createApp as createGatewayApp } from '@gtm/gateway/app';
import { loadConfig as loadGatewayConfig } from '@gtm/gateway/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphTestSetup, uniqueRedisPrefix } from '@gtm/testing';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const subscriptions = Number(process.env['BENCH_SUBSCRIPTIONS'] ?? 1_000);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 20);
const samplesPerRound = Number(process.env['BENCH_SAMPLES'] ?? 400);
const broadcastsPerRound = Number(process.env['BENCH_BROADCASTS'] ?? 10);

const collectGarbage = (globalThis as { gc?: () => void }).gc;
if (!collectGarbage) throw new Error('run with node --expose-gc (npm run bench:subscriptions does)');

const setup = await createSubgraphTestSetup();
const silent = createLogger({ service: 'bench', level: 'silent' });
const databaseUrl = setup.environment['DATABASE_URL']!;
const registry = await openApiKeyRegistry({ databaseUrl, logger: silent, poolMax: 1 });
const { key } = await registry.apiKeys.createKey({ tenant: 'bench', tier: 'enterprise', scopes: ['read'] });
const tenantId = String((await registry.database.orm.em.getConnection().execute(`select id from gateway.tenant where slug = 'bench'`))[0]!['id']);
await registry.close();
const redisKeyPrefix = uniqueRedisPrefix();

const gateway = await createGatewayApp(
  loadGatewayConfig({
    NODE_ENV: 'production',
    GATEWAY_PORT: '0',
    DATABASE_URL: databaseUrl,
    REDIS_URL: setup.environment['REDIS_URL'],
    REDIS_KEY_PREFIX: redisKeyPrefix,
    LOG_LEVEL: 'silent',
    CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
    SECRETS_KEY: setup.environment['SECRETS_KEY'],
    MAX_CONNECTIONS_PER_KEY: String(connections),
    MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.ceil(subscriptions / connections)),
    // Each subscription is counted as a request: high enough that none is refused.
    RATE_LIMIT_ENTERPRISE_PER_MINUTE: '1000000000',
    RATE_LIMIT_ENTERPRISE_PER_DAY: '1000000000',
  }),
  { logger: silent },
);

const client: ChildProcess = fork(new URL('./subscriptions.client.ts', import.meta.url), [], {
  env: {
    ...process.env,
    BENCH_CLIENT_SETTINGS: JSON.stringify({ url: gateway.url, apiKey: key, redisUrl: setup.environment['REDIS_URL'], redisKeyPrefix, tenantId, connections, subscriptions }),
  },
});
const replies: Array<(message: { done: string; result?: unknown }) => void> = [];
client.on('message', (message: { done: string; result?: unknown }) => replies.shift()?.(message));
client.once('exit', (code) => {
  if (code !== 0) process.exit(1);
});
const ask = <Result>(command: string, argument?: number) =>
  new Promise<Result>((resolve) => {
    replies.push((message) => resolve(message.result as Result));
    client.send({ command, argument });
  });
await new Promise<void>((resolve) => replies.push(() => resolve()));

/** Heap and resident set of this (the gateway's) process after full collections. */
async function memory(): Promise<{ heap: number; rss: number }> {
  for (let pass = 0; pass < 3; pass += 1) {
    collectGarbage!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

function percentile(values: number[], fraction: number): number {
  const sorted = values.toSorted((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

const median = (values: number[]) => percentile(values, 0.5);

const results = { singleP50: [] as number[], singleP99: [] as number[], everyoneP50: [] as number[], everyoneP99: [] as number[], everyoneLast: [] as number[], heapPerSubscription: [] as number[] };

/** Opens the connections and the subscriptions; resolves with the memory each subscription added. */
async function subscribeAndMeasure(): Promise<{ heap: number; rss: number }> {
  await ask('connect');
  const connected = await memory();
  await ask('subscribe');
  const subscribed = await memory();
  return { heap: (subscribed.heap - connected.heap) / subscriptions, rss: (subscribed.rss - connected.rss) / subscriptions };
}

// A warm-up round (JIT, Redis scripts, Apollo's document cache) whose latencies are not reported.
// It is the one round where the process grows its resident set for subscriptions: afterwards the
// allocator reuses what the earlier rounds freed, and RSS no longer tells anything.
const cold = await subscribeAndMeasure();
results.heapPerSubscription.push(cold.heap);
await ask('oneAtATime', 100);
await ask('unsubscribe');
await ask('disconnect');

for (let round = 0; round < rounds; round += 1) {
  results.heapPerSubscription.push((await subscribeAndMeasure()).heap);

  const single = await ask<number[]>('oneAtATime', samplesPerRound);
  results.singleP50.push(percentile(single, 0.5));
  results.singleP99.push(percentile(single, 0.99));
  await ask('unsubscribe');

  await ask('subscribeShared');
  const everyone = await ask<number[]>('toEveryone', broadcastsPerRound);
  results.everyoneP50.push(percentile(everyone, 0.5));
  results.everyoneP99.push(percentile(everyone, 0.99));
  results.everyoneLast.push(Math.max(...everyone));
  await ask('unsubscribe');
  await ask('disconnect');
}

const milliseconds = (values: number[]) => median(values).toFixed(2);
const kilobytes = (values: number[]) => (median(values) / 1024).toFixed(1);
process.stdout.write(`${rounds} rounds, ${subscriptions} subscriptions on ${connections} connections to one gateway, Node ${process.version}\n\n`);
process.stdout.write('| scenario | p50 (ms) | p99 (ms) | slowest (ms) |\n|---|---:|---:|---:|\n');
process.stdout.write(`| ${subscriptions} subscriptions to ${subscriptions} jobs; ${samplesPerRound} events one at a time, each to one subscriber | ${milliseconds(results.singleP50)} | ${milliseconds(results.singleP99)} | |\n`);
process.stdout.write(
  `| ${subscriptions} subscriptions to one job; ${broadcastsPerRound} events, each to all ${subscriptions} | ${milliseconds(results.everyoneP50)} | ${milliseconds(results.everyoneP99)} | ${milliseconds(results.everyoneLast)} |\n\n`,
);
process.stdout.write('| memory of the gateway process, after GC | per open subscription (KiB) |\n|---|---:|\n');
process.stdout.write(`| heap (median of ${results.heapPerSubscription.length} rounds) | ${kilobytes(results.heapPerSubscription)} |\n`);
process.stdout.write(`| RSS (first ${subscriptions} subscriptions of the process) | ${(cold.rss / 1024).toFixed(1)} |\n`);

client.kill();
await gateway.close();
await setup.dispose();
