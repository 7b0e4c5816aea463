// What the worker tests share: a database migrated for the counting kind, Redis, the progress
// feed, and helpers to submit jobs, follow them, run workers and look at what they wrote. The test
// files create the database and the Redis prefix (libs/testing) and open the harness with them.
import { randomUUID } from 'node:crypto';
import { createDatabase, createRedis, type Database, type Logger, type Redis } from '@gtm/runtime';
import type { JobKind } from '../job-kind.js';
import { Job, jobEntities, JobStatus } from '../job.entity.js';
import { createJobProgressFeed, type JobProgressFeed } from '../job-progress-feed.js';
import type { JobProgressEvent } from '../job-progress.js';
import { createJobQueue } from '../job-queue.js';
import { startJobWorker, type JobWorker } from '../job-worker.js';
import { countingMigrations, countingSchema, countingWorkerSchema, createCountingKind } from './counting-job.js';

export interface WorkerHarnessOptions {
  databaseUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  logger: Logger;
}

interface Opened {
  options: WorkerHarnessOptions;
  database: Database;
  redis: Redis;
  feed: JobProgressFeed;
}

/** The harness; its helpers may be taken apart at module level and used once `open` has run. */
export function createWorkerHarness() {
  let opened: Opened | undefined;
  const workers: JobWorker[] = [];
  const current = (): Opened => {
    if (!opened) throw new Error('the worker harness is used before open()');
    return opened;
  };
  const queueFor = (kind: JobKind<number, Job, any>) => {
    const { options, redis } = current();
    return createJobQueue({ databaseUrl: options.databaseUrl, workerSchema: countingWorkerSchema, redis, logger: options.logger, kinds: [kind] });
  };
  const count = async (sql: string, parameters: unknown[] = []) => Number((await current().database.orm.em.getConnection().execute<Array<{ count: string }>>(sql, parameters))[0]!.count);

  return {
    async open(options: WorkerHarnessOptions): Promise<void> {
      const database = await createDatabase({ url: options.databaseUrl, schema: countingSchema, entities: jobEntities, migrations: countingMigrations, logger: options.logger, poolMax: 6 });
      await database.migrate();
      const redis = createRedis({ url: options.redisUrl, keyPrefix: options.redisKeyPrefix });
      await redis.connect();
      opened = { options, database, redis, feed: createJobProgressFeed({ redis, logger: options.logger }) };
      await queueFor(createCountingKind()).migrate();
    },
    async close(): Promise<void> {
      await opened?.feed.close();
      opened?.redis.disconnect();
      await opened?.database.close();
    },
    get database() {
      return current().database;
    },
    get redis() {
      return current().redis;
    },
    get feed() {
      return current().feed;
    },
    /** Workers started through `startWorker`, or pushed here to be closed by `closeWorkers`. */
    workers,
    /** Every worker runs the same task name: one test's worker must not take the next one's jobs. */
    closeWorkers: () => Promise.all(workers.splice(0).map((worker) => worker.close())),
    queueFor,
    async startWorker(kind: JobKind<number, Job, any>, concurrency = 2): Promise<JobWorker> {
      const { options, database, redis } = current();
      const worker = await startJobWorker({
        database,
        databaseUrl: options.databaseUrl,
        workerSchema: countingWorkerSchema,
        redis,
        logger: options.logger,
        kinds: [kind],
        concurrency,
        pollIntervalMs: 100,
        shutdownAbortAfterMs: 200,
      });
      workers.push(worker);
      return worker;
    },
    submit(kind: JobKind<number, Job, any>, total: number, tenantId: string = randomUUID()): Promise<Job> {
      return queueFor(kind).submit(current().database.forkForTenant(tenantId), async (transaction) => {
        const job = transaction.create(Job, { tenantId, kind: 'counting', total });
        transaction.persist(job);
        return job;
      });
    },
    /** Listens to a job from its current snapshot on; `finished` resolves once a terminal event arrived. */
    async follow(jobId: string) {
      const { feed } = current();
      const events: JobProgressEvent[] = [];
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      const take = (event: JobProgressEvent) => {
        if (events.length > 0 && event.sequence <= events.at(-1)!.sequence) return;
        events.push(event);
        if ([JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED].includes(event.snapshot.status)) finished();
      };
      const stop = await feed.follow(jobId, take);
      const snapshot = await feed.read(jobId);
      if (snapshot) take(snapshot);
      return { events, finished: done.then(stop) };
    },
    async jobRow(job: Job): Promise<Job> {
      return (await current().database.forkForTenant(job.tenantId).findOneOrFail(Job, { id: job.id })) as Job;
    },
    /** The items the counting kind wrote for a job: an item processed twice shows twice. */
    async itemRows(jobId: string): Promise<{ rows: number; distinct: number; items: number[] }> {
      const rows = await current().database.orm.em.getConnection().execute<Array<{ item: number }>>(`select item from ${countingSchema}.processed_item where job_id = ? order by item`, [jobId]);
      const items = rows.map((row) => row.item);
      return { rows: items.length, distinct: new Set(items).size, items };
    },
    queuedTasks: (jobId: string) => count(`select count(*) from ${countingWorkerSchema}.jobs where key = ?`, [jobId]),
    /**
     * The job's graphile-worker tasks once a finished run has been completed: graphile-worker
     * deletes a task after its function returned, without the function waiting for it, so the
     * terminal progress event can come first. Waits up to two seconds for the count to reach 0.
     */
    async tasksLeftOnceCompleted(jobId: string): Promise<number> {
      const left = () => count(`select count(*) from ${countingWorkerSchema}.jobs where key = ?`, [jobId]);
      for (let waited = 0; (await left()) > 0 && waited < 2_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      return left();
    },
    /** graphile-worker tasks and queues still locked by some worker. */
    async lockedRows(): Promise<{ tasks: number; queues: number }> {
      return {
        tasks: await count(`select count(*) from ${countingWorkerSchema}._private_jobs where locked_by is not null`),
        queues: await count(`select count(*) from ${countingWorkerSchema}._private_job_queues where locked_by is not null`),
      };
    },
  };
}

/** A promise the test opens by hand. */
export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Holds the job at `item` until `resume()`; `reached` resolves when it gets there. */
export function pauseAt(item: number) {
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
