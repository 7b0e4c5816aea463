// Domain event delivery latency: from the commit of the publishing transaction to the start of the
// consumer's handler, at a steady publishing rate, on the real path (outbox, relay, deliveries,
// graphile-worker, processed-event record, a write in the handler's transaction).
//   - the publisher (this thread) plays a service such as crm-service: each event is its own
//     transaction that changes a row and publishes, as a mutation does; its relay runs here too;
//   - the consumer runs on a worker thread (another service), its handler writing a row.
// Variants alternate round by round, so all see the same machine: a rate in events per second and
// how many events each publishing transaction carries (`1000x10`: 100 transactions a second, each
// changing and publishing 10 entities, as a mutation over several leads or a bulk path does).
// Each round runs every handler form in turn, each on a fresh consumer thread of the same
// subscriber, alternating which goes first: `event` (subscribe: one handler call and one insert per
// event) and `batch` (subscribeBatch: one call and one multi-row insert per tenant's events of a
// round). Each form's segment ends with a burst (5 transactions of 1,000 events committed at once).
//
//   npm run bench:events                                  (builds events and testing first)
//   BENCH_ROUNDS=3 BENCH_SECONDS=10 BENCH_VARIANTS=100x1,1000x10,1000x1 BENCH_HANDLERS=event,batch BENCH_CONSUMER_CONCURRENCY=4 npm run bench:events   (the defaults)
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { publishEvents, startEventRelay } from '@gtm/events';
import { Note, noteChanged, openPublisherDatabase } from '@gtm/events/testing';
import { createLogger } from '@gtm/runtime';
import { createTestDatabase } from '@gtm/testing';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const variants = (process.env['BENCH_VARIANTS'] ?? '100x1,1000x10,1000x1').split(',').map((variant) => {
  const [rate, perTransaction] = variant.split('x').map(Number);
  return { name: variant, rate: rate!, perTransaction: perTransaction ?? 1 };
});
type Variant = (typeof variants)[number];
type HandlerForm = 'event' | 'batch';
const handlerForms = (process.env['BENCH_HANDLERS'] ?? 'event,batch').split(',') as HandlerForm[];
const consumerConcurrency = Number(process.env['BENCH_CONSUMER_CONCURRENCY'] ?? 4);
const noteCount = 500;
const maxInFlight = 16;

const now = () => performance.timeOrigin + performance.now();
const logger = createLogger({ service: 'bench', level: 'warn' });
const testDatabase = await createTestDatabase();
const publisher = await openPublisherDatabase(testDatabase.url, logger);
const relay = await startEventRelay({ database: publisher, databaseUrl: testDatabase.url, logger });
const tenantId = randomUUID();
const notes = Array.from({ length: noteCount }, () => randomUUID());
await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
  for (const id of notes) transaction.persist(transaction.create(Note, { id, tenantId, text: 'created' }));
});

let cpuAnswer: ((microseconds: number) => void) | null = null;
/** The consumer thread's CPU time so far. */
async function consumerCpuMicroseconds(): Promise<number> {
  const answer = new Promise<number>((resolve) => (cpuAnswer = resolve));
  // A worker's postMessage takes a transfer list, not a target origin.
  consumer.postMessage('cpu', []);
  return answer;
}
/** Transactions committed in the database so far, by every connection (pg_stat_database, as of its last report). */
async function committedTransactions(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const [row] = await publisher.orm.em.fork().execute<Array<{ commits: string }>>(`select xact_commit as commits from pg_stat_database where datname = current_database()`);
  return Number(row!.commits);
}

const committedAt = new Map<string, number>();
const handledAt = new Map<string, number>();
let consumer: Worker;
/** Starts a consumer thread with the handler form given; resolves once it takes events. */
async function startConsumer(handler: HandlerForm): Promise<void> {
  consumer = new Worker(new URL('./delivery-latency.consumer.worker.ts', import.meta.url), { workerData: { databaseUrl: testDatabase.url, concurrency: consumerConcurrency, handler } });
  await new Promise<void>((resolve, reject) => {
    consumer.once('error', reject);
    consumer.on('message', (message: { ready?: true; handled?: Array<[string, number]>; cpuMicroseconds?: number }) => {
      if (message.ready) resolve();
      if (message.cpuMicroseconds !== undefined) cpuAnswer?.(message.cpuMicroseconds);
      for (const [id, at] of message.handled ?? []) if (!handledAt.has(id)) handledAt.set(id, at);
    });
  });
}
async function stopConsumer(): Promise<void> {
  // A worker's postMessage takes a transfer list, not a target origin.
  consumer.postMessage('close', []);
  await new Promise((resolve) => consumer.once('exit', resolve));
}

let sequence = 0;
/** A transaction as a mutation would run it: change the rows, publish an event for each, commit. */
async function publishTransaction(count: number): Promise<string[]> {
  const changes = Array.from({ length: count }, () => {
    sequence += 1;
    return { noteId: notes[sequence % noteCount]!, sequence };
  });
  const events = await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
    await transaction.nativeUpdate(Note, { id: { $in: changes.map((change) => change.noteId) } }, { text: `change ${changes[0]!.sequence}` });
    return publishEvents(
      transaction,
      noteChanged,
      changes.map((change) => ({ entityId: change.noteId, data: { sequence: change.sequence, text: `change ${change.sequence}` }, requestId: `bench-${change.sequence}` })),
    );
  });
  const committed = now();
  for (const event of events) committedAt.set(event.id, committed);
  return events.map((event) => event.id);
}

/** Publishes at the variant's rate for `durationMs` (open loop, at most `maxInFlight` transactions at once). */
async function publishAt(variant: Variant, durationMs: number): Promise<{ ids: string[]; achievedRate: number }> {
  const transactionRate = variant.rate / variant.perTransaction;
  const total = Math.round((transactionRate * durationMs) / 1000);
  const ids: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  for (let index = 0; index < total; index += 1) {
    const due = start + (index * 1000) / transactionRate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const task = publishTransaction(variant.perTransaction).then((published) => {
      ids.push(...published);
      inFlight.delete(task);
    });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  return { ids, achievedRate: (ids.length * 1000) / (performance.now() - start) };
}

async function drained(ids: string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (ids.some((id) => !handledAt.has(id))) {
    if (Date.now() > deadline) throw new Error(`${ids.filter((id) => !handledAt.has(id)).length} events were not handled within five minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const percentile = (sorted: number[], fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
const median = (values: number[]) => percentile(values.toSorted((left, right) => left - right), 0.5);

type RunResult = { p50: number; p90: number; p99: number; max: number; achievedRate: number; events: number; consumerCpuMsPerThousand: number; transactionsPerEvent: number };
const results = new Map<string, RunResult[]>();
const bursts = new Map<HandlerForm, Array<{ eventsPerSecond: number; consumerCpuMsPerThousand: number; transactionsPerEvent: number }>>();
const key = (handler: HandlerForm, variant: Variant) => `${handler} ${variant.name}`;
for (let round = 1; round <= rounds; round += 1) {
  for (const handler of round % 2 === 1 ? handlerForms : handlerForms.toReversed()) {
    await startConsumer(handler);
    process.stderr.write(`round ${round}, ${handler} handler: warming up …\n`);
    await drained((await publishAt(variants.at(-1)!, 1_000)).ids);
    for (const variant of variants) {
      const [cpuBefore, commitsBefore] = [await consumerCpuMicroseconds(), await committedTransactions()];
      const { ids, achievedRate } = await publishAt(variant, seconds * 1000);
      await drained(ids);
      const [cpuAfter, commitsAfter] = [await consumerCpuMicroseconds(), await committedTransactions()];
      const latencies = ids.map((id) => handledAt.get(id)! - committedAt.get(id)!).toSorted((left, right) => left - right);
      const result = {
        p50: percentile(latencies, 0.5),
        p90: percentile(latencies, 0.9),
        p99: percentile(latencies, 0.99),
        max: latencies.at(-1)!,
        achievedRate,
        events: ids.length,
        consumerCpuMsPerThousand: (cpuAfter - cpuBefore) / ids.length,
        // Every connection's: the publisher's, its relay's, the consumer's (graphile-worker's included).
        transactionsPerEvent: (commitsAfter - commitsBefore) / ids.length,
      };
      results.set(key(handler, variant), [...(results.get(key(handler, variant)) ?? []), result]);
      process.stderr.write(`round ${round}, ${handler} ${variant.name}: ${JSON.stringify(Object.fromEntries(Object.entries(result).map(([name, value]) => [name, Number(value.toFixed(2))])))}\n`);
    }
    // What the consumer can take at most: a burst committed at once (an import), until its last event is handled.
    const burstIds: string[] = [];
    const [burstCpuBefore, burstCommitsBefore] = [await consumerCpuMicroseconds(), await committedTransactions()];
    for (let transaction = 0; transaction < 5; transaction += 1) burstIds.push(...(await publishTransaction(1_000)));
    await drained(burstIds);
    const [burstCpuAfter, burstCommitsAfter] = [await consumerCpuMicroseconds(), await committedTransactions()];
    const burstSeconds = (Math.max(...burstIds.map((id) => handledAt.get(id)!)) - Math.min(...burstIds.map((id) => committedAt.get(id)!))) / 1000;
    const burst = {
      eventsPerSecond: burstIds.length / burstSeconds,
      consumerCpuMsPerThousand: (burstCpuAfter - burstCpuBefore) / burstIds.length,
      transactionsPerEvent: (burstCommitsAfter - burstCommitsBefore) / burstIds.length,
    };
    bursts.set(handler, [...(bursts.get(handler) ?? []), burst]);
    process.stderr.write(`round ${round}, ${handler} burst of ${burstIds.length}: ${JSON.stringify(Object.fromEntries(Object.entries(burst).map(([name, value]) => [name, Number(value.toFixed(2))])))}\n`);
    await stopConsumer();
  }
}

const [seen] = await publisher.orm.em
  .fork()
  .execute<Array<{ rows: string; distinct: string }>>(`select count(*) as rows, count(distinct event_id) as distinct from events_consumer.seen_event`);
const published = committedAt.size;

const lines = [
  `Domain event delivery, publish commit → handler start, ${rounds} rounds × ${seconds} s per rate and handler form, consumer concurrency ${consumerConcurrency}, ${noteCount} entities`,
  '',
  '| handler | offered (events/s) | events per transaction | achieved (events/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | p50 ratio | p99 ratio | consumer CPU ms per 1,000 events | database transactions per event |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const variant of variants) {
  for (const handler of handlerForms) {
    const runs = results.get(key(handler, variant))!;
    const reference = results.get(key(handlerForms[0]!, variant))!;
    const value = (name: 'p50' | 'p90' | 'p99' | 'max', of = runs) => median(of.map((run) => run[name]));
    const cell = (name: 'p50' | 'p90' | 'p99' | 'max') => value(name).toFixed(1);
    lines.push(
      `| ${handler} | ${variant.rate} | ${variant.perTransaction} | ${median(runs.map((run) => run.achievedRate)).toFixed(0)} | ${cell('p50')} | ${cell('p90')} | ${cell('p99')} | ${cell('max')} | ${(value('p50') / value('p50', reference)).toFixed(2)} | ${(value('p99') / value('p99', reference)).toFixed(2)} | ${median(runs.map((run) => run.consumerCpuMsPerThousand)).toFixed(0)} | ${median(runs.map((run) => run.transactionsPerEvent)).toFixed(2)} |`,
    );
  }
}
lines.push('', `Ratios are to the ${handlerForms[0]} handler at the same rate; each cell is the median of the rounds.`, '');
lines.push('| handler | burst capacity (events/s) | consumer CPU ms per 1,000 events | database transactions per event |', '|---|---|---|---|');
for (const handler of handlerForms) {
  const runs = bursts.get(handler)!;
  lines.push(
    `| ${handler} | ${median(runs.map((run) => run.eventsPerSecond)).toFixed(0)} | ${median(runs.map((run) => run.consumerCpuMsPerThousand)).toFixed(0)} | ${median(runs.map((run) => run.transactionsPerEvent)).toFixed(2)} |`,
  );
}
lines.push('', 'Burst: 5 transactions of 1,000 events committed at once, from the first commit to the last handler start; median of the rounds.');
lines.push('', `Published ${published} events; the consumers committed ${seen!.rows} rows for ${seen!.distinct} distinct events (each exactly once: ${Number(seen!.rows) === published && Number(seen!.distinct) === published}).`);
process.stdout.write(`${lines.join('\n')}\n`);

await relay.close();
await publisher.close();
await testDatabase.drop();
