import { isUuid, type EntityManager, type Logger, type Redis } from '@gtm/runtime';
import { migrateWorkerSchema, quotedWorkerSchema, sharedWorkerSchema } from './worker-schema.js';
import type { AnyJobKind, JobTaskPayload } from './job-kind.js';
import { activeJobStatuses, isTerminal, Job, JobStatus } from './job.entity.js';
import { createJobProgressStore, snapshotOf, type JobProgressStore } from './job-progress.js';

export interface CreateJobQueueOptions {
  /** The service's PostgreSQL (graphile-worker's schema is created in the same database). */
  databaseUrl: string;
  /**
   * graphile-worker's schema. Default: `sharedWorkerSchema`, one for every service of the database
   * (decision 0018): graphile-worker's notifications are database-wide, so a second schema's first
   * migration would stop the workers of the first. A worker only takes the tasks it has (its
   * kinds), so services never run each other's jobs.
   */
  workerSchema?: string;
  redis: Redis;
  logger: Logger;
  /** The kinds of job this service submits. */
  kinds: AnyJobKind[];
  /** Passed to the progress store; see `CreateJobProgressStoreOptions`. Default: its defaults. */
  finishedRetentionSeconds?: number;
}

export interface CancelResult<JobEntity extends Job> {
  job: JobEntity;
  /** False when the job had already finished (its status is unchanged). */
  cancelled: boolean;
}

export interface JobQueue {
  /** Creates or updates graphile-worker's schema; run at start, before anything is submitted. */
  migrate(): Promise<void>;
  /**
   * Runs `build` in a transaction and enqueues the job it returns in that same transaction, so a
   * job row exists if and only if its worker task does; then publishes its QUEUED snapshot.
   * `build` creates and persists the job (with its `kind`, `total` and tenant) and any domain rows
   * the work needs. `runAt` holds the task back until then (a run resuming after a provider's
   * daily cap); default: now.
   */
  submit<JobEntity extends Job>(em: EntityManager, build: (transaction: EntityManager) => Promise<JobEntity>, options?: { runAt?: Date }): Promise<JobEntity>;
  /**
   * Stops a queued or running job: CANCELLED at once (a running worker stops before its next
   * item), and a job that has not started is taken off the queue. Null when the tenant of `em` has
   * no such job.
   */
  cancel<JobEntity extends Job>(em: EntityManager, entity: new () => JobEntity, jobId: string): Promise<CancelResult<JobEntity> | null>;
  /**
   * Publishes a job's current state, for a job not (yet) submitted, such as one that waits for its
   * input: its progress can be followed from the start. Never throws (a failure is logged).
   */
  publish(job: Job): Promise<void>;
  /**
   * Enqueues an existing job's task through `execute`, a query runner inside a transaction the
   * caller holds on its own connection (a COPY on a raw pg client): the task becomes visible when
   * that transaction commits, with what it wrote. `submit` is the way for a job built with MikroORM.
   */
  enqueue(execute: (text: string, values: unknown[]) => Promise<unknown>, job: Job, options?: { runAt?: Date }): Promise<void>;
  /** Where progress snapshots are written. */
  progress: JobProgressStore;
}

/** Submits and cancels a service's jobs. */
export function createJobQueue(options: CreateJobQueueOptions): JobQueue {
  const { logger } = options;
  const workerSchemaName = options.workerSchema ?? sharedWorkerSchema;
  const workerSchema = quotedWorkerSchema(workerSchemaName);
  const progress = createJobProgressStore({ redis: options.redis, finishedRetentionSeconds: options.finishedRetentionSeconds });
  const kinds = new Map(options.kinds.map((kind) => [kind.kind, kind]));

  // A failure here must not fail the request: the job row is committed and its worker will publish
  // the job's progress as soon as it runs.
  const publish = async (job: Job) => {
    try {
      await progress.write(snapshotOf(job));
    } catch (error) {
      logger.warn({ err: error, jobId: job.id }, 'could not publish job progress; the worker will');
    }
  };

  const addJobCall = (job: Job, runAt: Date | undefined): [string, unknown[]] => {
    const kind = kinds.get(job.kind);
    if (!kind) throw new Error(`no job kind "${job.kind}" is registered with this queue`);
    const payload: JobTaskPayload = { jobId: job.id, tenantId: job.tenantId };
    return [
      `select ${workerSchema}.add_job($1, $2::json, queue_name => $3, run_at => $4::timestamptz, max_attempts => $5, job_key => $6)`,
      [kind.kind, JSON.stringify(payload), kind.queueOf?.(job) ?? null, runAt?.toISOString() ?? null, kind.maxAttempts ?? 5, job.id],
    ];
  };

  return {
    progress,
    publish,
    async enqueue(execute, job, enqueueOptions = {}) {
      const [text, values] = addJobCall(job, enqueueOptions.runAt);
      await execute(text, values);
    },
    async migrate() {
      await migrateWorkerSchema({ databaseUrl: options.databaseUrl, workerSchema: workerSchemaName, logger });
    },
    async submit(em, build, submitOptions = {}) {
      const job = await em.transactional(async (transaction) => {
        const created = await build(transaction);
        await transaction.flush();
        // graphile-worker's own SQL function, on this transaction's connection: the task becomes
        // visible to workers (and their LISTEN fires) only when the job row commits with it.
        const [text, values] = addJobCall(created, submitOptions.runAt);
        await transaction.execute(text.replace(/\$\d+/g, '?'), values);
        return created;
      });
      await publish(job);
      return job;
    },
    async cancel(em, entity, jobId) {
      if (!isUuid(jobId)) return null;
      const job = await em.findOne(entity, { id: jobId } as never);
      if (!job) return null;
      if (isTerminal(job.status)) return { job, cancelled: false };
      const now = new Date();
      const cancelled = await em.transactional(async (transaction) => {
        // Conditional, so a worker finishing the job at this moment keeps its terminal status.
        const changed = await transaction.nativeUpdate(
          Job,
          { id: jobId, tenantId: job.tenantId, status: { $in: [...activeJobStatuses] } },
          { status: JobStatus.CANCELLED, message: 'Cancelled.', finishedAt: now, updatedAt: now },
        );
        // A job that has not started need not wait for a worker to find it cancelled.
        if (changed > 0) await transaction.execute(`select ${workerSchema}.remove_job(?)`, [jobId]);
        return changed > 0;
      });
      await em.refresh(job);
      if (cancelled) await publish(job);
      return { job, cancelled };
    },
  };
}
