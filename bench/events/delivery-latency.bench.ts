// Domain event delivery latency: from the commit of the publishing transaction to the start of the
// consumer's handler, at a steady publishing rate, on the real path (outbox, relay, deliveries,
// graphile-worker, processed-event record, a write in the handler's transaction).
//   - the publisher (this thread) plays a service such as crm-service: each event is its own
//     transaction that changes a row and publishes, as a mutation does; its relay runs here too;
//   - the consumer runs on a worker thread (another service), its handler writing a row.
// Rates alternate round by round (light, then the target), so both see the same machine.
//
//   npm run bench:events                                  (builds events and testing first)
//   BENCH_ROUNDS=3 BENCH_SECONDS=10 BENCH_RATES=100,1000 BENCH_CONSUMER_CONCURRENCY=4 npm run bench:events   (the defaults)
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { publishEvent, startEventRelay } from '@gtm/events';
import { Note, noteChanged, openPublisherDatabase } from '@gtm/events/testing';
import { createLogger } from '@gtm/runtime';
import { createTestDatabase } from '@gtm/testing';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const rates = (process.env['BENCH_RATES'] ?? '100,1000').split(',').map(Number);
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

const committedAt = new Map<string, number>();
const handledAt = new Map<string, number>();
const consumer = new Worker(new URL('./delivery-latency.consumer.worker.ts', import.meta.url), { workerData: { databaseUrl: testDatabase.url, concurrency: consumerConcurrency } });
await new Promise<void>((resolve, reject) => {
  consumer.once('error', reject);
  consumer.on('message', (message: { ready?: true; handled?: Array<[string, number]> }) => {
    if (message.ready) resolve();
    for (const [id, at] of message.handled ?? []) if (!handledAt.has(id)) handledAt.set(id, at);
  });
});

let sequence = 0;
/** One event as a mutation would publish it: change the row, publish, commit. */
async function publishOne(): Promise<string> {
  sequence += 1;
  const noteId = notes[sequence % noteCount]!;
  const text = `change ${sequence}`;
  const event = await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
    await transaction.nativeUpdate(Note, { id: noteId }, { text });
    return publishEvent(transaction, noteChanged, { entityId: noteId, data: { sequence, text }, requestId: `bench-${sequence}` });
  });
  committedAt.set(event.id, now());
  return event.id;
}

/** Publishes at `rate` events per second for `durationMs` (open loop, at most `maxInFlight` at once). */
async function publishAt(rate: number, durationMs: number): Promise<{ ids: string[]; achievedRate: number }> {
  const total = Math.round((rate * durationMs) / 1000);
  const ids: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  for (let index = 0; index < total; index += 1) {
    const due = start + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const task = publishOne().then((id) => {
      ids.push(id);
      inFlight.delete(task);
    });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  return { ids, achievedRate: (ids.length * 1000) / (performance.now() - start) };
}

async function drained(ids: string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (ids.some((id) => !handledAt.has(id))) {
    if (Date.now() > deadline) throw new Error(`${ids.filter((id) => !handledAt.has(id)).length} events were not handled within two minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const percentile = (sorted: number[], fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
const median = (values: number[]) => percentile(values.toSorted((left, right) => left - right), 0.5);

process.stderr.write(`warming up …\n`);
await drained((await publishAt(Math.max(...rates), 2_000)).ids);

const results = new Map<number, Array<{ p50: number; p90: number; p99: number; max: number; achievedRate: number; events: number }>>();
for (let round = 1; round <= rounds; round += 1) {
  for (const rate of rates) {
    const { ids, achievedRate } = await publishAt(rate, seconds * 1000);
    await drained(ids);
    const latencies = ids.map((id) => handledAt.get(id)! - committedAt.get(id)!).toSorted((left, right) => left - right);
    const result = { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: percentile(latencies, 0.99), max: latencies.at(-1)!, achievedRate, events: ids.length };
    results.set(rate, [...(results.get(rate) ?? []), result]);
    process.stderr.write(`round ${round}, ${rate}/s: ${JSON.stringify(Object.fromEntries(Object.entries(result).map(([key, value]) => [key, Number(value.toFixed(2))])))}\n`);
  }
}

const [seen] = await publisher.orm.em
  .fork()
  .execute<Array<{ rows: string; distinct: string }>>(`select count(*) as rows, count(distinct event_id) as distinct from events_consumer.seen_event`);
const published = committedAt.size;

const lines = [
  `Domain event delivery, publish commit → handler start, ${rounds} rounds × ${seconds} s per rate, consumer concurrency ${consumerConcurrency}, ${noteCount} entities`,
  '',
  '| rate (events/s) | achieved (events/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |',
  '|---|---|---|---|---|---|',
];
for (const rate of rates) {
  const runs = results.get(rate)!;
  const cell = (key: 'p50' | 'p90' | 'p99' | 'max') => median(runs.map((run) => run[key])).toFixed(1);
  lines.push(`| ${rate} | ${median(runs.map((run) => run.achievedRate)).toFixed(0)} | ${cell('p50')} | ${cell('p90')} | ${cell('p99')} | ${cell('max')} |`);
}
if (rates.length === 2) {
  const [light, target] = rates.map((rate) => results.get(rate)!);
  const ratio = (key: 'p50' | 'p99') => (median(target!.map((run) => run[key])) / median(light!.map((run) => run[key]))).toFixed(2);
  lines.push('', `Ratio ${rates[1]}/s to ${rates[0]}/s (medians of the rounds): p50 ${ratio('p50')}, p99 ${ratio('p99')}.`);
}
lines.push('', `Published ${published} events; the consumer committed ${seen!.rows} rows for ${seen!.distinct} distinct events (each exactly once: ${Number(seen!.rows) === published && Number(seen!.distinct) === published}).`);
process.stdout.write(`${lines.join('\n')}\n`);

// A worker's postMessage takes a transfer list, not a target origin.
consumer.postMessage('close', []);
await new Promise((resolve) => consumer.once('exit', resolve));
await relay.close();
await publisher.close();
await testDatabase.drop();
