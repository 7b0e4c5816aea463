import type { EntityManager } from '@gtm/runtime';
import { quotedWorkerSchema, sharedWorkerSchema } from './worker-schema.js';

export interface EnqueueTaskOptions {
  /** The task's name, as registered in the worker's `tasks`. */
  task: string;
  payload: Record<string, unknown>;
  /** When it may run first. Default: now. */
  runAt?: Date;
  /**
   * Replaces a pending task with the same key instead of adding a second one (graphile-worker's
   * job_key): one send task per message, however often it is scheduled. Default: none.
   */
  jobKey?: string;
  /** Tasks with the same queue name run one at a time, in order. Default: none (in parallel). */
  queueName?: string;
  /** Attempts before graphile-worker gives up; retries back off exponentially. Default: 5. */
  maxAttempts?: number;
  /** graphile-worker's schema. Default: `sharedWorkerSchema`. */
  workerSchema?: string;
}

/**
 * Enqueues a plain task on `em`'s connection: inside a transaction, the task becomes visible to
 * workers only if the rows written with it commit, so nothing is lost between "saved" and "queued".
 */
export async function enqueueTask(em: EntityManager, options: EnqueueTaskOptions): Promise<void> {
  const schema = quotedWorkerSchema(options.workerSchema ?? sharedWorkerSchema);
  await em.execute(`select ${schema}.add_job(?, ?::json, queue_name => ?, run_at => ?::timestamptz, max_attempts => ?, job_key => ?)`, [
    options.task,
    JSON.stringify(options.payload),
    options.queueName ?? null,
    (options.runAt ?? new Date()).toISOString(),
    options.maxAttempts ?? 5,
    options.jobKey ?? null,
  ]);
}

/** Takes a pending task off the queue by its key (a cancelled send); a running one is not stopped. */
export async function removeTask(em: EntityManager, jobKey: string, workerSchema: string = sharedWorkerSchema): Promise<void> {
  await em.execute(`select ${quotedWorkerSchema(workerSchema)}.remove_job(?)`, [jobKey]);
}
