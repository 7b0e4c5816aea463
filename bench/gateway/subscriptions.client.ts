// The client side of bench:subscriptions, in a process of its own so that the gateway's process
// holds only the gateway (its memory is what is measured). It plays the workers too: it writes
// job progress to Redis and times each event from the write until a subscriber receives it.
// Driven by subscriptions.bench.ts over IPC; see there.
import { randomUUID } from 'node:crypto';
import { createJobProgressStore, JobStatus, type JobProgressSnapshot } from '@gtm/jobs';
import { createRedis } from '@gtm/runtime';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const settings = JSON.parse(process.env['BENCH_CLIENT_SETTINGS']!) as {
  url: string;
  apiKey: string;
  redisUrl: string;
  redisKeyPrefix: string;
  tenantId: string;
  connections: number;
  subscriptions: number;
};

const redis = createRedis({ url: settings.redisUrl, keyPrefix: settings.redisKeyPrefix });
await redis.connect();
const store = createJobProgressStore({ redis });
const query = `subscription Progress($jobId: ID!) { jobProgress(jobId: $jobId) { jobId status total completed failed percent updatedAt } }`;

let clients: Client[] = [];
let stops: Array<() => void> = [];
/** By subscription (its index): who waits for it to receive a `completed` value. */
const waiting = new Map<number, Array<{ completed: number; resolve: () => void }>>();
/** The last `completed` written, by job. */
const counts = new Map<string, number>();
let subscribedJobs: string[] = [];

function snapshot(jobId: string, completed: number): JobProgressSnapshot {
  return { jobId, tenantId: settings.tenantId, kind: 'bench', status: JobStatus.RUNNING, total: 1_000_000, completed, failed: 0, message: null, updatedAt: new Date().toISOString(), subject: null };
}

function received(subscription: number, completed: number): void {
  const waiters = waiting.get(subscription);
  if (!waiters) return;
  for (const waiter of waiters.filter((candidate) => candidate.completed <= completed)) {
    waiters.splice(waiters.indexOf(waiter), 1);
    waiter.resolve();
  }
}

function whenReceived(subscription: number, completed: number): Promise<void> {
  return new Promise((resolve) => {
    const waiters = waiting.get(subscription) ?? [];
    waiters.push({ completed, resolve });
    waiting.set(subscription, waiters);
  });
}

async function connect(): Promise<void> {
  clients = await Promise.all(
    Array.from({ length: settings.connections }, async () => {
      const client = createClient({ url: settings.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${settings.apiKey}` }, lazy: false, retryAttempts: 0 });
      await new Promise<void>((resolve, reject) => {
        client.on('connected', () => resolve());
        client.on('closed', (event) => reject(new Error(`connection closed: ${JSON.stringify(event)}`)));
      });
      return client;
    }),
  );
}

/** Opens one subscription per entry of `jobIds`; resolves once each has its snapshot. */
async function subscribe(jobIds: string[]): Promise<void> {
  subscribedJobs = jobIds;
  for (const jobId of new Set(jobIds)) {
    counts.set(jobId, 0);
    await store.write(snapshot(jobId, 0));
  }
  const firstResults: Array<Promise<void>> = [];
  jobIds.forEach((jobId, index) => {
    let first!: () => void;
    firstResults.push(new Promise<void>((resolve) => (first = resolve)));
    const stop = clients[index % clients.length]!.subscribe<{ jobProgress: { completed: number } }>(
      { query, variables: { jobId } },
      {
        next: (result) => {
          first();
          received(index, result.data!.jobProgress.completed);
        },
        error: (error) => {
          process.stderr.write(`subscription failed: ${JSON.stringify(error)}\n`);
          process.exit(1);
        },
        complete: () => {},
      },
    );
    stops.push(stop);
  });
  await Promise.all(firstResults);
}

/** One event at a time, each to one job's one subscriber; milliseconds from the write to its arrival. */
async function oneAtATime(samples: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let sample = 0; sample < samples; sample += 1) {
    const subscription = Math.floor(Math.random() * subscribedJobs.length);
    const jobId = subscribedJobs[subscription]!;
    const completed = counts.get(jobId)! + 1;
    counts.set(jobId, completed);
    const arrived = whenReceived(subscription, completed);
    const startedAt = performance.now();
    await store.write(snapshot(jobId, completed));
    await arrived;
    latencies.push(performance.now() - startedAt);
  }
  return latencies;
}

/** One event at a time to the job every subscription follows; milliseconds until each subscriber has it. */
async function toEveryone(events: number): Promise<number[]> {
  const jobId = subscribedJobs[0]!;
  const latencies: number[] = [];
  for (let event = 0; event < events; event += 1) {
    const completed = counts.get(jobId)! + 1;
    counts.set(jobId, completed);
    const startedAt = performance.now();
    const arrivals = subscribedJobs.map((_, subscription) => whenReceived(subscription, completed).then(() => latencies.push(performance.now() - startedAt)));
    await store.write(snapshot(jobId, completed));
    await Promise.all(arrivals);
  }
  return latencies;
}

async function unsubscribe(): Promise<void> {
  for (const stop of stops) stop();
  stops = [];
  waiting.clear();
}

async function disconnect(): Promise<void> {
  await Promise.all(clients.map((client) => client.dispose()));
  clients = [];
}

const commands: Record<string, (argument: number) => Promise<unknown>> = {
  connect,
  // Each subscription its own job, fresh each time.
  subscribe: () => subscribe(Array.from({ length: settings.subscriptions }, () => randomUUID())),
  // Every subscription the same (fresh) job.
  subscribeShared: () => {
    const shared = randomUUID();
    return subscribe(Array.from({ length: settings.subscriptions }, () => shared));
  },
  oneAtATime,
  toEveryone,
  unsubscribe,
  disconnect,
};

process.on('message', (message: { command: string; argument?: number }) => {
  commands[message.command]!(message.argument ?? 0).then(
    (result) => process.send!({ done: message.command, result }),
    (error: unknown) => {
      process.stderr.write(`${message.command} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
});
process.send!({ done: 'start' });
