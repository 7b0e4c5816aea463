import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, createLogger, createRedis, type Database, type Redis } from '@gtm/runtime';
import { createTestDatabase, testEnvironment, uniqueRedisPrefix, type TestDatabase } from '@gtm/testing';
import type { JobKind } from './job-kind.js';
import { Job, jobEntities, JobStatus } from './job.entity.js';
import { createJobProgressFeed, type JobProgressFeed } from './job-progress-feed.js';
import type { JobProgressEvent } from './job-progress.js';
import { createJobQueue } from './job-queue.js';
import { startJobWorker, type JobWorker } from './job-worker.js';
import { countingMigrations, countingSchema, countingWorkerSchema, createCountingKind } from './testing/counting-job.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let database: Database;
let redis: Redis;
let feed: JobProgressFeed;
const workers: JobWorker[] = [];

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = await createDatabase({ url: testDatabase.url, schema: countingSchema, entities: jobEntities, migrations: countingMigrations, logger, poolMax: 6 });
  await database.migrate();
  redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: uniqueRedisPrefix() });
  await redis.connect();
  await queueFor(createCountingKind()).migrate();
  feed = createJobProgressFeed({ redis, logger });
});

// Every worker of this file runs the same task name: one test's worker must not take the next one's jobs.
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close()));
});

afterAll(async () => {
  await feed?.close();
  redis?.disconnect();
  await database?.close();
  await testDatabase?.drop();
});

function queueFor(kind: JobKind<number>) {
  return createJobQueue({ databaseUrl: testDatabase.url, workerSchema: countingWorkerSchema, redis, logger, kinds: [kind] });
}

async function startWorker(kind: JobKind<number>, concurrency = 2): Promise<JobWorker> {
  const worker = await startJobWorker({
    database,
    databaseUrl: testDatabase.url,
    workerSchema: countingWorkerSchema,
    redis,
    logger,
    kinds: [kind],
    concurrency,
    pollIntervalMs: 100,
    shutdownAbortAfterMs: 200,
  });
  workers.push(worker);
  return worker;
}

async function submit(kind: JobKind<number>, total: number, tenantId: string = randomUUID()): Promise<Job> {
  return queueFor(kind).submit(database.forkForTenant(tenantId), async (transaction) => {
    const job = transaction.create(Job, { tenantId, kind: 'counting', total });
    transaction.persist(job);
    return job;
  });
}

/** Listens to a job from its current snapshot on; `until` resolves once a terminal event arrived. */
async function follow(jobId: string) {
  const events: JobProgressEvent[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const take = (event: JobProgressEvent) => {
    if (events.length > 0 && event.sequence <= events.at(-1)!.sequence) return;
    events.push(event);
    if ([JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED].includes(event.snapshot.status)) finished();
  };
  const stop = await feed.follow(jobId, take);
  const current = await feed.read(jobId);
  if (current) take(current);
  return { events, finished: done.then(stop) };
}

async function jobRow(job: Job): Promise<Job> {
  return (await database.forkForTenant(job.tenantId).findOneOrFail(Job, { id: job.id })) as Job;
}

async function itemRows(jobId: string): Promise<{ rows: number; distinct: number; items: number[] }> {
  const rows = await database.orm.em.getConnection().execute<Array<{ item: number }>>(`select item from ${countingSchema}.processed_item where job_id = ? order by item`, [jobId]);
  const items = rows.map((row) => row.item);
  return { rows: items.length, distinct: new Set(items).size, items };
}

async function queuedTasks(jobId: string): Promise<number> {
  const rows = await database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(*) from ${countingWorkerSchema}.jobs where key = ?`, [jobId]);
  return Number(rows[0]!.count);
}

/** graphile-worker tasks and queues still locked by some worker. */
async function lockedRows(): Promise<{ tasks: number; queues: number }> {
  const connection = database.orm.em.getConnection();
  const [tasks] = await connection.execute<Array<{ count: string }>>(`select count(*) from ${countingWorkerSchema}._private_jobs where locked_by is not null`);
  const [queues] = await connection.execute<Array<{ count: string }>>(`select count(*) from ${countingWorkerSchema}._private_job_queues where locked_by is not null`);
  return { tasks: Number(tasks!.count), queues: Number(queues!.count) };
}

/** A promise the test opens by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Holds the job at `item` until `resume()`; `reached` resolves when it gets there. */
function pauseAt(item: number) {
  const reached = gate();
  const resumed = gate();
  return {
    reached: reached.opened,
    resume: resumed.open,
    async beforeItem(current: number) {
      if (current !== item) return;
      reached.open();
      await resumed.opened;
    },
  };
}

describe('running jobs', () => {
  it('runs a submitted job to SUCCEEDED, each item once, with its progress published from QUEUED to the end', async () => {
    const kind = createCountingKind({ failedItems: new Set([3, 7]) });
    const job = await submit(kind, 40);
    expect(job.status).toBe(JobStatus.QUEUED);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    const row = await jobRow(job);
    expect(row).toMatchObject({ status: JobStatus.SUCCEEDED, total: 40, completed: 38, failed: 2 });
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(await itemRows(job.id)).toMatchObject({ rows: 40, distinct: 40 });
    expect(await queuedTasks(job.id)).toBe(0);

    const snapshots = progress.events.map((event) => event.snapshot);
    expect(snapshots[0]).toMatchObject({ jobId: job.id, tenantId: job.tenantId, kind: 'counting', status: JobStatus.QUEUED, completed: 0 });
    expect(snapshots.at(-1)).toMatchObject({ status: JobStatus.SUCCEEDED, total: 40, completed: 38, failed: 2 });
    const processed = snapshots.map((snapshot) => snapshot.completed + snapshot.failed);
    expect(processed).toEqual(processed.toSorted((left, right) => left - right));
    expect(snapshots.some((snapshot) => snapshot.status === JobStatus.RUNNING)).toBe(true);
    expect(Object.keys(snapshots.at(-1)!)).not.toContain('error');
  });

  it('enqueues in the transaction of the domain write: a submission that fails leaves neither a job row nor a task', async () => {
    const tenantId = randomUUID();
    const jobId = randomUUID();
    const attempt = queueFor(createCountingKind()).submit(database.forkForTenant(tenantId), async (transaction) => {
      const job = transaction.create(Job, { id: jobId, tenantId, kind: 'counting', total: 3 });
      transaction.persist(job);
      await transaction.flush();
      // A domain write after the job that breaks a constraint: the whole submission rolls back.
      await transaction.execute(`insert into ${countingSchema}.processed_item (job_id, item, pid) values (?, null, 0)`, [jobId]);
      return job;
    });
    await expect(attempt).rejects.toThrow(/null value/);
    expect(await database.forkForTenant(tenantId).count(Job, { id: jobId })).toBe(0);
    expect(await queuedTasks(jobId)).toBe(0);
  });

  it('retries a failed attempt with backoff and resumes where it stopped, without redoing an item', async () => {
    let failures = 0;
    const kind = createCountingKind({
      maxAttempts: 3,
      beforeItem: (item) => {
        if (item === 5 && failures === 0) {
          failures += 1;
          throw new Error('the enrichment source timed out');
        }
      },
    });
    const job = await submit(kind, 12);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    expect(failures).toBe(1);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 12, failed: 0, message: null });
    expect(await itemRows(job.id)).toEqual({ rows: 12, distinct: 12, items: Array.from({ length: 12 }, (_, index) => index) });
    const retrying = progress.events.find((event) => event.snapshot.message?.includes('retrying'));
    expect(retrying?.snapshot).toMatchObject({ status: JobStatus.RUNNING, completed: 5 });
  });

  it('marks a job FAILED after its last attempt, keeps what was processed, and keeps the cause from listeners', async () => {
    const kind = createCountingKind({
      maxAttempts: 1,
      beforeItem: (item) => {
        if (item === 2) throw new Error('upstream said 500: internal detail');
      },
    });
    const job = await submit(kind, 6);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    const row = await jobRow(job);
    expect(row).toMatchObject({ status: JobStatus.FAILED, completed: 2, message: 'Failed after 1 attempt; items already processed are kept.' });
    expect(row.error).toContain('upstream said 500: internal detail');
    expect(await itemRows(job.id)).toMatchObject({ rows: 2, distinct: 2 });
    expect(progress.events.at(-1)?.snapshot).toMatchObject({ status: JobStatus.FAILED, completed: 2 });
    expect(JSON.stringify(progress.events)).not.toContain('internal detail');
  });
});

describe('services sharing a database', () => {
  it('migrate the shared worker schema, each migration once, when they start at the same time', async () => {
    const schema = `fresh_worker_${randomUUID().slice(0, 8)}`;
    const queues = ['a', 'b', 'c', 'd'].map((name) => createJobQueue({ databaseUrl: testDatabase.url, workerSchema: schema, redis, logger, kinds: [{ ...createCountingKind(), kind: name }] }));
    await Promise.all(queues.map((queue) => queue.migrate()));
    const rows = await database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(*) from ${schema}.migrations`);
    expect(Number(rows[0]!.count)).toBeGreaterThan(10);
    // Each migration ran once: a second run of it would have failed on this primary key.
    const distinct = await database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(distinct id) from ${schema}.migrations`);
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
    const firstQueue = createJobQueue({ databaseUrl: testDatabase.url, redis, logger, kinds: [first] });
    await firstQueue.migrate();
    workers.push(await startJobWorker({ database, databaseUrl: testDatabase.url, redis, logger, kinds: [first], pollIntervalMs: 100 }));
    const secondQueue = createJobQueue({ databaseUrl: testDatabase.url, redis, logger, kinds: [second] });
    await secondQueue.migrate();
    workers.push(await startJobWorker({ database, databaseUrl: testDatabase.url, redis, logger, kinds: [second], pollIntervalMs: 100 }));

    const tenantId = randomUUID();
    const submitTo = (queue: typeof firstQueue, kind: string) =>
      queue.submit(database.forkForTenant(tenantId), async (transaction) => {
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

describe('what a job says', () => {
  it('shows each item while it runs and what it did, gives the kind its attempt, and ends as the kind concludes', async () => {
    const attempts: Array<[number, number]> = [];
    const counting = createCountingKind({ failedItems: new Set([2]) });
    const kind: JobKind<number> = {
      ...counting,
      describeItem: (item, { job }) => `Item ${item + 1} of ${job.total}.`,
      async processItem(item, context) {
        attempts.push([context.attempt, context.maxAttempts]);
        return { ...(await counting.processItem(item, context)), message: `Did item ${item + 1}.` };
      },
      async conclude({ job, em }) {
        const row = await em.fork().findOneOrFail(Job, { id: job.id });
        return row.failed > 0 ? { status: JobStatus.FAILED, message: `${row.failed} of ${row.total} items failed.` } : {};
      },
    };
    const job = await submit(kind, 3);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    expect(await jobRow(job)).toMatchObject({ status: JobStatus.FAILED, completed: 2, failed: 1, message: '1 of 3 items failed.' });
    expect(attempts).toEqual([
      [1, 5],
      [1, 5],
      [1, 5],
    ]);
    const messages = progress.events.map((event) => event.snapshot.message);
    // Throttled: a message may be superseded before it is published, but never out of order.
    const said = ['Item 1 of 3.', 'Did item 1.', 'Item 2 of 3.', 'Did item 2.', 'Item 3 of 3.', 'Did item 3.', '1 of 3 items failed.'];
    expect(messages.filter((message): message is string => message !== null).every((message, index, shown) => index === 0 || said.indexOf(message) > said.indexOf(shown[index - 1]!))).toBe(true);
    expect(progress.events.at(-1)?.snapshot).toMatchObject({ status: JobStatus.FAILED, completed: 2, failed: 1, message: '1 of 3 items failed.' });
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
    await queueFor(kind).cancel(database.forkForTenant(job.tenantId), Job, job.id);
    cancelled.open();
    await progress.finished;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sawAbort).toBe(true);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.CANCELLED, completed: 0, error: null });
    expect(await itemRows(job.id)).toMatchObject({ rows: 0 });
    // The task ended as done, not as a failed attempt left for a retry.
    const [tasks] = await database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(*) from ${countingWorkerSchema}._private_jobs where payload->>'jobId' = ?`, [job.id]);
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

describe('cancellation', () => {
  it('stops a running job between items: CANCELLED, nothing counted after it', async () => {
    const pause = pauseAt(3);
    const kind = createCountingKind({ beforeItem: pause.beforeItem });
    const job = await submit(kind, 10);
    const progress = await follow(job.id);
    await startWorker(kind);
    await pause.reached;

    const queue = queueFor(kind);
    const result = await queue.cancel(database.forkForTenant(job.tenantId), Job, job.id);
    expect(result).toMatchObject({ cancelled: true, job: { status: JobStatus.CANCELLED } });
    pause.resume();
    await progress.finished;

    expect(await jobRow(job)).toMatchObject({ status: JobStatus.CANCELLED, completed: 3 });
    // Item 3 was in flight when the job was cancelled: its writes rolled back with its count.
    expect(await itemRows(job.id)).toEqual({ rows: 3, distinct: 3, items: [0, 1, 2] });
    expect(progress.events.at(-1)?.snapshot).toMatchObject({ status: JobStatus.CANCELLED, completed: 3 });
    expect(await queue.cancel(database.forkForTenant(job.tenantId), Job, job.id)).toMatchObject({ cancelled: false });
    expect(await queue.cancel(database.forkForTenant(randomUUID()), Job, job.id)).toBeNull();
  });

  it('takes a job that has not started off the queue', async () => {
    const kind = createCountingKind();
    const job = await submit(kind, 3);
    expect(await queuedTasks(job.id)).toBe(1);
    await queueFor(kind).cancel(database.forkForTenant(job.tenantId), Job, job.id);
    expect(await queuedTasks(job.id)).toBe(0);
    expect((await feed.read(job.id))?.snapshot).toMatchObject({ status: JobStatus.CANCELLED, completed: 0 });
  });
});

describe('concurrency', () => {
  it('runs the jobs of one queue one at a time, even on a worker with room for more', async () => {
    const order: string[] = [];
    const kind = createCountingKind({
      queueOf: () => 'one-at-a-time',
      beforeItem: async (item, jobId) => {
        order.push(jobId);
        // Gives any other job the chance to run in between, if the queue let it.
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    const jobs = [await submit(kind, 4), await submit(kind, 4), await submit(kind, 4)];
    const finished = await Promise.all(jobs.map((job) => follow(job.id)));
    await startWorker(kind, 4);
    await Promise.all(finished.map((progress) => progress.finished));
    // Each job's items ran back to back: the order holds three runs of four.
    const runs = order.filter((jobId, index) => index === 0 || order[index - 1] !== jobId);
    expect(runs).toHaveLength(3);
    expect(new Set(runs).size).toBe(3);
  });

  it('runs jobs without a queue side by side, up to the worker’s concurrency', async () => {
    const started = new Set<string>();
    const bothStarted = gate();
    const kind = createCountingKind({
      beforeItem: async (_item, jobId) => {
        started.add(jobId);
        if (started.size === 2) bothStarted.open();
        // Neither job gets past its first item until the other one has started.
        await bothStarted.opened;
      },
    });
    const jobs = [await submit(kind, 2), await submit(kind, 2)];
    const finished = await Promise.all(jobs.map((job) => follow(job.id)));
    await startWorker(kind, 2);
    await Promise.all(finished.map((progress) => progress.finished));
    expect(started.size).toBe(2);
  });
});

describe('shutdown', () => {
  it('leaves none of its connections open once closed', async () => {
    const connections = async () => {
      const rows = await database.orm.em
        .getConnection()
        .execute<Array<{ count: string }>>(`select count(*) from pg_stat_activity where datname = current_database() and application_name like 'gtm-job-worker%'`);
      return Number(rows[0]!.count);
    };
    const worker = await startJobWorker({ database, databaseUrl: testDatabase.url, workerSchema: countingWorkerSchema, redis, logger, kinds: [createCountingKind()], pollIntervalMs: 100 });
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
