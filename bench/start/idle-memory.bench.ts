// What the whole idle stack holds in memory, in two shapes side by side, alternating round by round:
//   - `npm start` as it runs in development: PostgreSQL, Redis, the five subgraphs in one Node
//     process, the gateway in a worker thread of the supervisor (decision 0022);
//   - one Node process per service (`node apps/<app>/dist/main.js`, as docker-compose runs them
//     and as `npm start` used to), on the same embedded PostgreSQL and redis-server.
// Each shape is measured once the stack is ready and has idled (`BENCH_SETTLE_SECONDS`), then
// again after a burst of mixed requests and the same idle time. Reported per part: the resident
// set (RSS, what `ps` shows; pages shared between processes, such as PostgreSQL's shared memory
// and the node binary, are counted in each) and the proportional set (PSS: shared pages divided
// among their sharers, so the sum is what the stack costs the machine).
//
//   npm run bench:start                                 (builds first; needs redis-server on PATH)
//   BENCH_ROUNDS=3 BENCH_SETTLE_SECONDS=60 BENCH_REQUESTS=300 npm run bench:start   (the defaults)
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareEmbeddedPostgres } from '../../tools/start/embedded-postgres.ts';
import { launchProcess, type Launched } from '../../tools/start/launch.ts';
import { checkHttp, freePort } from '../../tools/start/network.ts';
import { prepareRedisServer } from '../../tools/start/redis-server.ts';
import { subgraphs } from '../../tools/start/services.ts';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const settleMs = Number(process.env['BENCH_SETTLE_SECONDS'] ?? 60) * 1000;
const requests = Number(process.env['BENCH_REQUESTS'] ?? 300);
const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));
const dataDirectory = mkdtempSync(join(tmpdir(), 'bench-start-'));
chmodSync(dataDirectory, 0o755); // as root, the embedded PostgreSQL runs as the postgres user
const baseEnvironment = { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1' };

type Part = 'supervisor + gateway' | 'gateway' | 'subgraphs' | 'postgres' | 'redis' | 'other';
type Sample = Record<Part | 'total', { rss: number; pss: number }>;

// ─── Measuring a process tree ─────────────────────────────────────────────────────────────────

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const task of tasks) {
    try {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

function treeOf(roots: number[]): number[] {
  const seen = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...childrenOf(pid));
  }
  return [...seen];
}

function memoryOf(pid: number): { rss: number; pss: number } | undefined {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) / 1024;
    return { rss: field('Rss'), pss: field('Pss') };
  } catch {
    return undefined;
  }
}

function partOf(pid: number, supervisorPid: number | undefined): Part {
  const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  if (pid === supervisorPid) return 'supervisor + gateway';
  if (commandLine.startsWith('postgres:') || commandLine.includes('/bin/postgres ')) return 'postgres';
  if (commandLine.includes('redis-server')) return 'redis';
  if (commandLine.includes('gateway/dist/main.js')) return 'gateway';
  if (commandLine.includes('npm start: the five subgraphs') || /-service\/dist\/main\.js/.test(commandLine)) return 'subgraphs';
  return 'other';
}

function sample(roots: number[], supervisorPid?: number): Sample {
  const result = Object.fromEntries((['supervisor + gateway', 'gateway', 'subgraphs', 'postgres', 'redis', 'other', 'total'] as const).map((part) => [part, { rss: 0, pss: 0 }])) as Sample;
  for (const pid of treeOf(roots)) {
    const memory = memoryOf(pid);
    if (!memory) continue;
    const part = partOf(pid, supervisorPid);
    for (const key of [part, 'total'] as const) {
      result[key].rss += memory.rss;
      result[key].pss += memory.pss;
    }
  }
  return result;
}

// ─── Driving a stack ────────────────────────────────────────────────────────────────────────────

const delay = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

async function waitFor(check: () => Promise<void>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await delay(250);
    }
  }
}

function developmentKey(): string {
  return Object.values(JSON.parse(readFileSync(join(dataDirectory, 'development-api-key.json'), 'utf8')) as Record<string, string>)[0]!;
}

/** A burst of mixed requests: reads and writes across the subgraphs and the gateway's own. */
async function load(gatewayUrl: string): Promise<void> {
  const day = 24 * 60 * 60 * 1000;
  const operations = [
    'mutation { createCampaign(input: { websiteUrl: "https://blossomer.io" }) { id name } }',
    '{ campaigns(first: 10) { edges { node { id name website { url domain } } } } }',
    `{ usage(from: "${new Date(Date.now() - day).toISOString()}", to: "${new Date(Date.now() + day).toISOString()}") { requests { total } } }`,
    'mutation { createCompany(input: { name: "Panfactum", websiteUrl: "https://panfactum.com" }) { id } }',
    '{ leads(first: 10) { edges { node { id email } } } }',
    '{ dataSources { name category } }',
  ];
  for (let index = 0; index < requests; index++) {
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${developmentKey()}` },
      body: JSON.stringify({ query: operations[index % operations.length] }),
    });
    await response.text();
  }
}

interface Measured {
  idle: Sample;
  afterLoad: Sample;
}

/** `npm start`, as a developer runs it. */
async function measureDevelopmentShape(): Promise<Measured> {
  const gatewayPort = await freePort();
  const launcher = spawn(process.execPath, ['--max-semi-space-size=1', 'tools/start.ts'], {
    cwd: workspaceRoot,
    env: { ...baseEnvironment, DATA_DIR: dataDirectory, GATEWAY_PORT: String(gatewayPort) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let printed = '';
      launcher.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        printed += chunk;
        if (printed.includes('GTM Graph is running')) resolve();
      });
      launcher.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${printed}`)));
    });
    launcher.stdout!.resume();
    return await measureStack(`http://127.0.0.1:${gatewayPort}/graphql`, () => sample([launcher.pid!], launcher.pid));
  } finally {
    await stopChild(launcher, 'SIGINT');
  }
}

/** One process per service, each its own app's main.js, on the same kind of PostgreSQL and Redis. */
async function measureProcessPerServiceShape(): Promise<Measured> {
  const postgres = await prepareEmbeddedPostgres(dataDirectory, baseEnvironment);
  const redis = await prepareRedisServer(baseEnvironment);
  const started: Launched[] = [];
  try {
    for (const store of [postgres.spec, redis.spec]) {
      started.push(store.launch());
      await waitFor(store.ready);
    }
    const keys = JSON.parse(readFileSync(join(dataDirectory, 'caller-keys.json'), 'utf8')) as { privateKeyPem: string; publicKeyPem: string };
    const ports = await Promise.all(subgraphs.map(() => freePort()));
    const urls = Object.fromEntries(subgraphs.map((subgraph, index) => [subgraph.urlVariable, `http://127.0.0.1:${ports[index]}/graphql`]));
    const common = { ...baseEnvironment, ...urls, DATABASE_URL: postgres.url, REDIS_URL: redis.url, LOG_LEVEL: 'warn', SECRETS_KEY: readFileSync(join(dataDirectory, 'secrets-key'), 'utf8').trim() };
    const appProcess = (app: string, environment: NodeJS.ProcessEnv) => launchProcess({ command: process.execPath, args: [join(workspaceRoot, 'apps', app, 'dist', 'main.js')], environment });
    subgraphs.forEach((subgraph, index) => started.push(appProcess(subgraph.app, { ...common, PORT: String(ports[index]), CALLER_TOKEN_PUBLIC_KEY: keys.publicKeyPem })));
    await Promise.all(ports.map((port) => waitFor(() => checkHttp(`http://127.0.0.1:${port}/health`))));
    const gatewayPort = await freePort();
    started.push(appProcess('gateway', { ...common, GATEWAY_PORT: String(gatewayPort), CALLER_TOKEN_PRIVATE_KEY: keys.privateKeyPem }));
    await waitFor(() => checkHttp(`http://127.0.0.1:${gatewayPort}/health/live`));
    return await measureStack(`http://127.0.0.1:${gatewayPort}/graphql`, () => sample(started.map((launched) => launched.pid!)));
  } finally {
    for (const launched of started.toReversed()) {
      launched.signal('SIGINT');
      await Promise.race([launched.exited, delay(20_000)]);
    }
  }
}

async function measureStack(gatewayUrl: string, measure: () => Sample): Promise<Measured> {
  await delay(settleMs);
  const idle = measure();
  await load(gatewayUrl);
  await delay(settleMs);
  return { idle, afterLoad: measure() };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await Promise.race([exited, delay(60_000)]);
}

// ─── The run ────────────────────────────────────────────────────────────────────────────────────

const median = (values: number[]) => {
  const sorted = values.toSorted((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const results: Record<'development' | 'perService', Measured[]> = { development: [], perService: [] };
try {
  // The first development run also initialises the cluster and makes the keys both shapes use.
  for (let round = 0; round < rounds; round++) {
    results.development.push(await measureDevelopmentShape());
    results.perService.push(await measureProcessPerServiceShape());
    process.stderr.write(`round ${round + 1}/${rounds}: npm start ${results.development.at(-1)!.idle.total.rss.toFixed(0)} MB RSS idle, one process per service ${results.perService.at(-1)!.idle.total.rss.toFixed(0)} MB\n`);
  }
} finally {
  rmSync(dataDirectory, { recursive: true, force: true });
}

const parts = ['supervisor + gateway', 'gateway', 'subgraphs', 'postgres', 'redis', 'total'] as const;
const cell = (shape: Measured[], moment: keyof Measured, part: (typeof parts)[number], kind: 'rss' | 'pss') => median(shape.map((measured) => measured[moment][part][kind]));
process.stdout.write(`\nMedians of ${rounds} rounds (MB), idle ${settleMs / 1000} s after start, and ${settleMs / 1000} s after ${requests} requests; Node ${process.version}\n\n`);
process.stdout.write('| part | npm start RSS | npm start PSS | per service RSS | per service PSS | npm start RSS after load | per service RSS after load |\n|---|---|---|---|---|---|---|\n');
for (const part of parts) {
  const values = [
    cell(results.development, 'idle', part, 'rss'),
    cell(results.development, 'idle', part, 'pss'),
    cell(results.perService, 'idle', part, 'rss'),
    cell(results.perService, 'idle', part, 'pss'),
    cell(results.development, 'afterLoad', part, 'rss'),
    cell(results.perService, 'afterLoad', part, 'rss'),
  ];
  process.stdout.write(`| ${part} | ${values.map((value) => value.toFixed(0)).join(' | ')} |\n`);
}
const ratio = (kind: 'rss' | 'pss') => (cell(results.development, 'idle', 'total', kind) / cell(results.perService, 'idle', 'total', kind)).toFixed(2);
process.stdout.write(`\nnpm start / one process per service, idle total: RSS ${ratio('rss')}, PSS ${ratio('pss')}\n`);
