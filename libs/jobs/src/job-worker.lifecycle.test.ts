// Workers over their life: services starting side by side, pipelined commits, shutting down.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@gtm/runtime';
import { createTestDatabase, testEnvironment, uniqueRedisPrefix, type TestDatabase } from '@gtm/testing';
import type { JobKind } from './job-kind.js';
import { Job, JobStatus } from './job.entity.js';
import { createJobQueue } from './job-queue.js';
import { startJobWorker } from './job-worker.js';
import { countingWorkerSchema, createCountingKind } from './testing/counting-job.js';
import { createWorkerHarness, gate, pauseAt } from './testing/worker-harness.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
const harness = createWorkerHarness();
const { queueFor, startWorker, submit, follow, jobRow, itemRows, queuedTasks, lockedRows } = harness;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  await harness.open({ databaseUrl: testDatabase.url, redisUrl: testEnvironment.redisUrl, redisKeyPrefix: uniqueRedisPrefix(), logger });
});

afterEach(() => harness.closeWorkers());

afterAll(async () => {
  await harness.close();
  await testDatabase?.drop();
});

describe('services sharing a database', () => {
  it('migrate the shared worker schema, each migration once, when they start at the same time', async () => {
    const schema = `fresh_worker_${randomUUID().slice(0, 8)}`;
    const queues = ['a', 'b', 'c', 'd'].map((name) => createJobQueue({ databaseUrl: testDatabase.url, workerSchema: schema, redis: harness.redis, logger, kinds: [{ ...createCountingKind(), kind: name }] }));
    await Promise.all(queues.map((queue) => queue.migrate()));
    const rows = await harness.database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(*) from ${schema}.migrations`);
    expect(Number(rows[0]!.count)).toBeGreaterThan(10);
    // Each migration ran once: a second run of it would have failed on this primary key.
    const distinct = await harness.database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(distinct id) from ${schema}.migrations`);
    expect(distinct[0]!.count).toBe(rows[0]!.count);
  });

  it('share one worker schema: a service that starts later stops no other worker, and each worker runs only its own kinds', async () => {
    const ranBy: Record<string, string[]> = { first: [], second: [] };
    const kindOf = (name: string, service: 'first' | 'second'): JobKind<number> => ({
      ...createCountingKind(),
      kind: name,
      async processItem(item, context) {
        ranBy[service]!.push(name);
        return createCountingKind().processItem(item, context);
      },
    });
    const first = kindOf('first-service-task', 'first');
    const second = kindOf('second-service-task', 'second');
    // Neither passes a worker schema: both use the shared one. The first starts its worker before
    // the second service migrates; with a schema each, that migration's notification stopped it.
    const firstQueue = createJobQueue({ databaseUrl: testDatabase.url, redis: harness.redis, logger, kinds: [first] });
    await firstQueue.migrate();
    harness.workers.push(await startJobWorker({ database: harness.database, databaseUrl: testDatabase.url, redis: harness.redis, logger, kinds: [first], pollIntervalMs: 100 }));
    const secondQueue = createJobQueue({ databaseUrl: testDatabase.url, redis: harness.redis, logger, kinds: [second] });
    await secondQueue.migrate();
    harness.workers.push(await startJobWorker({ database: harness.database, databaseUrl: testDatabase.url, redis: harness.redis, logger, kinds: [second], pollIntervalMs: 100 }));

    const tenantId = randomUUID();
    const submitTo = (queue: typeof firstQueue, kind: string) =>
      queue.submit(harness.database.forkForTenant(tenantId), async (transaction) => {
        const job = transaction.create(Job, { tenantId, kind, total: 2 });
        transaction.persist(job);
        return job;
      });
    const jobs = [await submitTo(firstQueue, first.kind), await submitTo(secondQueue, second.kind)];
    const progress = await Promise.all(jobs.map((job) => follow(job.id)));
    await Promise.all(progress.map((followed) => followed.finished));
    for (const job of jobs) expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 2 });
    expect(ranBy).toEqual({ first: ['first-service-task', 'first-service-task'], second: ['second-service-task', 'second-service-task'] });
  });
});
/** A counting kind that logs when each item's work starts and its save ends; saves take 30 ms. */
function loggingKind(pipeline: boolean) {
  const log: string[] = [];
  const counting = createCountingKind();
  const kind: JobKind<number> = {
    ...counting,
    pipeline,
    async processItem(item, context) {
      log.push(`process ${item}`);
      const result = await counting.processItem(item, context);
      return {
        ...result,
        save: async (transaction) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          await result.save!(transaction);
          log.push(`saved ${item}`);
        },
      };
    },
  };
  return { kind, log };
}

describe('pipelining', () => {
  it('processes the next item of a pipelined kind while the previous one commits, and still commits each once, in order', async () => {
    const { kind, log } = loggingKind(true);
    const job = await submit(kind, 4);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;
    expect(log).toEqual(['process 0', 'process 1', 'saved 0', 'process 2', 'saved 1', 'process 3', 'saved 2', 'saved 3']);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 4 });
    expect(await itemRows(job.id)).toEqual({ rows: 4, distinct: 4, items: [0, 1, 2, 3] });
  });

  it('aborts the item in flight when the commit before it finds the job cancelled, and stops without a retry', async () => {
    const saving = gate();
    const cancelled = gate();
    let sawAbort = false;
    const counting = createCountingKind();
    const kind: JobKind<number> = {
      ...counting,
      pipeline: true,
      async processItem(item, context) {
        const result = await counting.processItem(item, context);
        if (item === 1) {
          await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve(), { once: true }));
          sawAbort = true;
          throw new Error('aborted');
        }
        return {
          ...result,
          save: async (transaction) => {
            saving.open();
            await cancelled.opened;
            await result.save!(transaction);
          },
        };
      },
    };
    const job = await submit(kind, 3);
    const progress = await follow(job.id);
    await startWorker(kind);
    await saving.opened;
    await queueFor(kind).cancel(harness.database.forkForTenant(job.tenantId), Job, job.id);
    cancelled.open();
    await progress.finished;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sawAbort).toBe(true);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.CANCELLED, completed: 0, error: null });
    expect(await itemRows(job.id)).toMatchObject({ rows: 0 });
    // The task ended as done, not as a failed attempt left for a retry.
    const [tasks] = await harness.database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(*) from ${countingWorkerSchema}._private_jobs where payload->>'jobId' = ?`, [job.id]);
    expect(Number(tasks!.count)).toBe(0);
  });

  it('processes an item of any other kind only once the one before it is committed', async () => {
    const { kind, log } = loggingKind(false);
    const job = await submit(kind, 3);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;
    expect(log).toEqual(['process 0', 'saved 0', 'process 1', 'saved 1', 'process 2', 'saved 2']);
  });
});

/** A worker of the counting kind with one plain task, on the given schedules. */
const startScheduled = (schedules: Array<{ task: string; pattern: string }>) =>
  startJobWorker({
    database: harness.database,
    databaseUrl: testDatabase.url,
    workerSchema: countingWorkerSchema,
    redis: harness.redis,
    logger,
    kinds: [createCountingKind()],
    tasks: { 'counting:sweep': async () => {} },
    schedules,
    pollIntervalMs: 100,
  });

describe('schedules', () => {
  it('registers each scheduled task with graphile-worker’s cron, once however many workers run it', async () => {
    harness.workers.push(await startScheduled([{ task: 'counting:sweep', pattern: '*/10 * * * *' }]), await startScheduled([{ task: 'counting:sweep', pattern: '*/10 * * * *' }]));
    const known = await harness.database.orm.em.getConnection().execute<Array<{ identifier: string }>>(`select identifier from ${countingWorkerSchema}._private_known_crontabs`);
    expect(known.map((row) => row.identifier)).toEqual(['counting:sweep']);
  });

  it('refuses to start with a schedule for a task it does not run, or a pattern that is not cron', async () => {
    await expect(startScheduled([{ task: 'counting:nothing', pattern: '* * * * *' }])).rejects.toThrow('scheduled task "counting:nothing" is not one of the worker\'s tasks');
    await expect(startScheduled([{ task: 'counting:sweep', pattern: 'every minute' }])).rejects.toThrow();
  });
});

describe('shutdown', () => {
  it('leaves none of its connections open once closed', async () => {
    const connections = async () => {
      const rows = await harness.database.orm.em
        .getConnection()
        .execute<Array<{ count: string }>>(`select count(*) from pg_stat_activity where datname = current_database() and application_name like 'gtm-job-worker%'`);
      return Number(rows[0]!.count);
    };
    const worker = await startJobWorker({ database: harness.database, databaseUrl: testDatabase.url, workerSchema: countingWorkerSchema, redis: harness.redis, logger, kinds: [createCountingKind()], pollIntervalMs: 100 });
    const job = await submit(createCountingKind(), 2);
    const progress = await follow(job.id);
    await progress.finished;
    expect(await connections()).toBeGreaterThan(0);
    await worker.close();
    // The server lists a backend for a moment after its client hung up.
    for (let waited = 0; (await connections()) > 0 && waited < 2_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await connections()).toBe(0);
  });

  it('hands a running job back when its worker stops; the next worker finishes it, each item once', async () => {
    const pause = pauseAt(4);
    const pausing = createCountingKind({ beforeItem: pause.beforeItem });
    const job = await submit(pausing, 9);
    const progress = await follow(job.id);
    const first = await startWorker(pausing);
    await pause.reached;
    const closing = first.close();
    pause.resume();
    await closing;
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.RUNNING, completed: 5 });
    expect(await queuedTasks(job.id)).toBe(1);

    await startWorker(createCountingKind());
    await progress.finished;
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 9 });
    expect(await itemRows(job.id)).toMatchObject({ rows: 9, distinct: 9 });
  });

  it('hands a job back, without using up an attempt, when its item is cut short by the shutdown', async () => {
    const reached = gate();
    // In a queue: a task left locked by the stopped worker would hold up the queue's next one.
    const counting = createCountingKind({ maxAttempts: 1, queueOf: (jobId) => `queue-${jobId}` });
    // Item 1 waits for the worker's signal, as a model call does, and fails when it aborts.
    const hanging: JobKind<number> = {
      ...counting,
      async processItem(item, context) {
        if (item === 1) {
          reached.open();
          await new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        }
        return counting.processItem(item, context);
      },
    };
    const job = await submit(hanging, 3);
    const progress = await follow(job.id);
    const first = await startWorker(hanging);
    await reached.opened;
    await first.close();
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.RUNNING, completed: 1, error: null });
    expect(await queuedTasks(job.id)).toBe(1);
    expect(await lockedRows()).toEqual({ tasks: 0, queues: 0 });

    await startWorker(counting);
    await progress.finished;
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 3 });
    expect(await itemRows(job.id)).toMatchObject({ rows: 3, distinct: 3 });
  });
});