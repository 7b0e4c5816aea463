import { EventEmitter } from 'node:events';
import type { Database, Logger, Redis } from '@gtm/runtime';
import { parseCronItems, run, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import { createGraphileLogger } from './graphile-logger.js';
import type { AnyJobKind } from './job-kind.js';
import { createJobProgressStore } from './job-progress.js';
import { quotedWorkerSchema, sharedWorkerSchema } from './worker-schema.js';
import { createJobTask } from './job-runner.js';
import { createWorkerPool } from './worker-pool.js';
import { createWorkerPresence } from './worker-presence.js';

export interface StartJobWorkerOptions {
  /** The service's database: job rows and the kinds' own tables. */
  database: Database;
  /** Its URL, for graphile-worker's own connection pool. */
  databaseUrl: string;
  /** graphile-worker's schema, the same as `createJobQueue`'s. Default: `sharedWorkerSchema`. */
  workerSchema?: string;
  redis: Redis;
  logger: Logger;
  kinds: AnyJobKind[];
  /**
   * Plain graphile-worker tasks run beside the kinds: small units of work without a job row or
   * progress (send one message, process one reply), enqueued with `enqueueTask` in the transaction
   * of the rows they act on. Each must be idempotent: a retry or a takeover runs it again. Default: none.
   */
  tasks?: TaskList;
  /**
   * Plain tasks (of `tasks`) run on a schedule: housekeeping such as dropping what ended work left
   * behind. graphile-worker's cron adds each due run once however many processes run the worker,
   * and never backfills runs missed while none was up. Default: none.
   */
  schedules?: JobSchedule[];
  /** Jobs this process runs at the same time. Default: 2. */
  concurrency?: number;
  /** How often to look for jobs whose worker process died, and resume them. Default: 10 000 ms. */
  recoveryIntervalMs?: number;
  /** How often graphile-worker polls for jobs that became due (retries); new jobs arrive by LISTEN at once. Default: 2 000 ms. */
  pollIntervalMs?: number;
  /** Least time between two progress events of one job. Default: 100 ms. */
  progressIntervalMs?: number;
  /** A lock younger than this is not taken over (see worker-presence.ts). Default: 2 000 ms. */
  lockGraceMs?: number;
  /**
   * How long `close()` lets a running item finish before its `signal` aborts (its job is then
   * handed back, and the item runs again on the next worker). Default: 5 000 ms.
   */
  shutdownAbortAfterMs?: number;
}

/** A plain task run on a schedule: its name in `tasks`, and when, in cron syntax (UTC), e.g. `0 * * * *` for hourly. */
export interface JobSchedule {
  task: string;
  pattern: string;
}

export interface JobWorker {
  /** Resumes, now, the jobs of worker processes that died; resolves with how many pools were dead. */
  recoverNow(): Promise<number>;
  /**
   * Stops taking jobs; a running job stops before its next item and goes back to the queue (it
   * resumes on another worker, or on this service's next start). Resolves once all have stopped.
   */
  close(): Promise<void>;
}

/** Runs the jobs of the given kinds in this process, on graphile-worker. */
export async function startJobWorker(options: StartJobWorkerOptions): Promise<JobWorker> {
  const { database, logger } = options;
  const concurrency = options.concurrency ?? 2;
  const workerSchema = options.workerSchema ?? sharedWorkerSchema;
  const presence = createWorkerPresence({
    databaseUrl: options.databaseUrl,
    quotedWorkerSchema: quotedWorkerSchema(workerSchema),
    logger,
    lockGraceMs: options.lockGraceMs,
  });
  // graphile-worker's LISTEN connection and one per running job, plus room for its bookkeeping.
  const pool = createWorkerPool({ databaseUrl: options.databaseUrl, max: concurrency + 2, logger, name: 'gtm-job-worker' });
  let stopping = false;
  const handedBack: string[] = [];
  const progress = createJobProgressStore({ redis: options.redis });
  const taskList: TaskList = Object.fromEntries(
    options.kinds.map((kind) => [
      kind.kind,
      createJobTask(kind, {
        database,
        progress,
        logger,
        progressIntervalMs: options.progressIntervalMs ?? 100,
        isStopping: () => stopping,
        presence: () => presence.settled(),
        onHandedBack: (graphileJobId) => handedBack.push(graphileJobId),
      }),
    ]),
  );
  for (const [name, task] of Object.entries(options.tasks ?? {})) {
    if (taskList[name]) throw new Error(`task "${name}" is also a job kind`);
    // Like a kind's task, a plain one waits until its pool is known alive, so it is never taken for a dead pool's.
    taskList[name] = async (payload, helpers) => {
      await presence.settled();
      return task!(payload, helpers);
    };
  }
  const events: WorkerEvents = new EventEmitter();
  // The pool announces itself before any of its jobs does work (each task waits for `settled`).
  events.on('pool:create', ({ workerPool }) => {
    presence.announce(workerPool.id).catch((error: unknown) => logger.error({ err: error }, 'could not announce the job worker'));
  });

  let runner: Runner;
  try {
    runner = await run({
      pgPool: pool,
      schema: workerSchema,
      concurrency,
      pollInterval: options.pollIntervalMs ?? 2_000,
      noHandleSignals: true,
      gracefulShutdownAbortTimeout: options.shutdownAbortAfterMs ?? 5_000,
      taskList,
      parsedCronItems: parseCronItems(
        (options.schedules ?? []).map((schedule) => {
          if (!taskList[schedule.task]) throw new Error(`scheduled task "${schedule.task}" is not one of the worker's tasks`);
          return { task: schedule.task, match: schedule.pattern, identifier: schedule.task, options: { backfillPeriod: 0 } };
        }),
      ),
      events,
      logger: createGraphileLogger(logger),
    });
  } catch (error) {
    await presence.close();
    await pool.end();
    throw error;
  }

  const recover = async () => (await presence.releaseJobsOfDeadWorkers()).length;
  await recover();
  const recoveryTimer = setInterval(() => {
    recover().catch((error: unknown) => logger.warn({ err: error }, 'could not look for jobs of dead workers'));
  }, options.recoveryIntervalMs ?? 10_000);
  recoveryTimer.unref();
  logger.info({ kinds: options.kinds.map((kind) => kind.kind), tasks: Object.keys(options.tasks ?? {}), concurrency, workerSchema }, 'job worker started');

  return {
    recoverNow: recover,
    async close() {
      if (stopping) return;
      stopping = true;
      clearInterval(recoveryTimer);
      await runner.stop();
      // graphile-worker completes a finished task without waiting, and a shutdown can end its pool
      // first: a task handed back could stay locked, and with it its queue, until the recovery of
      // another worker took it for dead. The pools of this process are stopped now, so their locks go.
      await presence.releaseOwnJobs(handedBack.splice(0)).catch((error: unknown) => logger.warn({ err: error }, 'could not release the jobs of the stopped worker; recovery will'));
      await presence.close();
      await pool.end();
    },
  };
}
