// The benchmark's consuming service, on its own thread: handles note.changed with a real write in
// the handler's transaction, and tells the main thread when each handler started (wall clock with
// sub-millisecond resolution, comparable across threads), in batches. `handler` picks the form: one
// handler call and one insert per event (`event`), or one call and one multi-row insert per batch
// of a tenant's events (`batch`).
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { startEventConsumer } from '@gtm/events';
import { noteBatchSubscription, noteSubscription, openConsumerDatabase } from '@gtm/events/testing';
import { createLogger } from '@gtm/runtime';

const { databaseUrl, concurrency, handler } = workerData as { databaseUrl: string; concurrency: number; handler: 'event' | 'batch' };
const logger = createLogger({ service: 'bench-consumer', level: 'warn' });
const database = await openConsumerDatabase(databaseUrl, logger);
let pending: Array<[string, number]> = [];
const consumer = await startEventConsumer({
  database,
  databaseUrl,
  logger,
  concurrency,
  subscriptions: [
    handler === 'batch'
      ? noteBatchSubscription(async (events) => {
          const at = performance.timeOrigin + performance.now();
          for (const event of events) pending.push([event.id, at]);
        })
      : noteSubscription(async (event) => {
          pending.push([event.id, performance.timeOrigin + performance.now()]);
        }),
  ],
});
const flush = setInterval(() => {
  if (pending.length === 0) return;
  parentPort?.postMessage({ handled: pending }, []);
  pending = [];
}, 20);

parentPort?.on('message', async (message: string) => {
  // The CPU time this thread (the consumer) has used, for its cost per event.
  if (message === 'cpu') {
    const usage = process.threadCpuUsage();
    return parentPort?.postMessage({ cpuMicroseconds: usage.user + usage.system }, []);
  }
  if (message !== 'close') return;
  clearInterval(flush);
  await consumer.close();
  await database.close();
  parentPort?.close();
});
// A worker's postMessage takes a transfer list, not a target origin.
parentPort?.postMessage({ ready: true }, []);
