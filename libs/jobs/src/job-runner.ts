import { raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Database, EntityManager, Logger } from '@gtm/runtime';
import type { JobHelpers, Task } from 'graphile-worker';
import type { AnyJobKind, JobAttempt, JobItemResult, JobRunContext, JobTaskPayload } from './job-kind.js';
import { isTerminal, Job, JobItem, JobStatus } from './job.entity.js';
import { snapshotOf, type JobProgressStore } from './job-progress.js';
import { createThrottledProgress, type ThrottledProgress } from './progress-throttle.js';

export interface JobTaskDependencies {
  database: Database;
  progress: JobProgressStore;
  logger: Logger;
  /** Least time between two progress events of one job, in milliseconds. */
  progressIntervalMs: number;
  /** True once the worker is shutting down: runs stop between items and hand their job back. */
  isStopping: () => boolean;
  /** Resolves once this process's pool holds its presence lock (see worker-presence.ts). */
  presence: () => Promise<void>;
  /** Told the graphile-worker job id of every task handed back, so that the worker's close can finish them. */
  onHandedBack: (graphileJobId: string) => void;
}

/** The worker is stopping: the job goes back to the queue and resumes elsewhere. */
class JobInterruptedError extends Error {
  override readonly name = 'JobInterruptedError';
}

type CommitOutcome = { committed: true; completed: number; failed: number; updatedAt: Date } | { committed: false; reason: 'duplicate' | 'not-running' };

const maximumErrorLength = 2_000;

/** Most items one group commit writes (a concurrent kind's; decision 0078). */
const maximumGroupCommit = 200;

function parsePayload(payload: unknown): JobTaskPayload {
  const candidate = payload as Partial<JobTaskPayload> | null;
  if (typeof candidate?.jobId !== 'string' || typeof candidate.tenantId !== 'string') throw new Error('a job task needs { jobId, tenantId } as payload');
  return { jobId: candidate.jobId, tenantId: candidate.tenantId };
}

/**
 * Records one item as processed, writes its results and counts it, in one transaction. The count
 * is conditional on the job still RUNNING: a cancellation that committed first makes this roll
 * back, so a cancelled job never counts an item after it was cancelled.
 */
async function commitItem(database: Database, job: Job, itemKey: string, result: JobItemResult): Promise<CommitOutcome> {
  const column = result.outcome === 'completed' ? 'completed' : 'failed';
  try {
    return await database.forkForTenant(job.tenantId).transactional(async (transaction: EntityManager) => {
      const now = new Date();
      await transaction.insert(JobItem, { jobId: job.id, itemKey, tenantId: job.tenantId, outcome: result.outcome, processedAt: now });
      await result.save?.(transaction);
      const rows = (await transaction
        .createQueryBuilder(Job)
        .update({ [column]: raw(`${column} + 1`), updatedAt: now, ...(result.message === undefined ? {} : { message: result.message }) } as never)
        .where({ id: job.id, tenantId: job.tenantId, status: JobStatus.RUNNING })
        .returning(['completed', 'failed'])
        .execute('all')) as unknown as Array<{ completed: number; failed: number }>;
      const counters = rows[0];
      if (!counters) throw new JobNotRunningSignal();
      return { committed: true as const, completed: counters.completed, failed: counters.failed, updatedAt: now };
    });
  } catch (error) {
    if (error instanceof JobNotRunningSignal) return { committed: false, reason: 'not-running' };
    // Another run committed this item first (a worker thought dead, or a retry racing its original).
    if (error instanceof UniqueConstraintViolationException && /job_item_pkey/.test(error.message)) return { committed: false, reason: 'duplicate' };
    throw error;
  }
}

class JobNotRunningSignal extends Error {}

/** What committing several items at once came to: which of them were new (the others another run committed first). */
type GroupCommitOutcome = { committed: true; completed: number; failed: number; updatedAt: Date; duplicates: number } | { committed: false; reason: 'not-running' };

/**
 * Commits several processed items in one transaction (group commit): their `job_item` rows in one
 * statement, each new item's `save`, and the job's counters once — the guarantees of `commitItem`
 * for each item, at a fraction of its round trips. An item another run already committed is
 * skipped (neither saved nor counted); a job no longer RUNNING rolls the whole group back.
 */
async function commitItems(database: Database, job: Job, entries: ReadonlyArray<{ itemKey: string; result: JobItemResult }>): Promise<GroupCommitOutcome> {
  try {
    return await database.forkForTenant(job.tenantId).transactional(async (transaction: EntityManager) => {
      const now = new Date();
      const schema = transaction.config.get('schema');
      const inserted = await transaction.getConnection().execute<Array<{ item_key: string }>>(
        `insert into "${schema}".job_item (job_id, item_key, tenant_id, outcome, processed_at)
         select ?, r.item_key, ?, r.outcome, ? from jsonb_to_recordset(?::jsonb) as r(item_key text, outcome text)
         on conflict do nothing returning item_key`,
        [job.id, job.tenantId, now, JSON.stringify(entries.map((entry) => ({ item_key: entry.itemKey, outcome: entry.result.outcome })))],
        'all',
        transaction.getTransactionContext(),
      );
      const fresh = new Set(inserted.map((row) => row.item_key));
      let completed = 0;
      let failed = 0;
      let message: string | null | undefined;
      for (const { itemKey, result } of entries) {
        if (!fresh.has(itemKey)) continue;
        await result.save?.(transaction);
        if (result.outcome === 'completed') completed += 1;
        else failed += 1;
        if (result.message !== undefined) message = result.message;
      }
      const rows = (await transaction
        .createQueryBuilder(Job)
        .update({ completed: raw(`completed + ${completed}`), failed: raw(`failed + ${failed}`), updatedAt: now, ...(message === undefined ? {} : { message }) } as never)
        .where({ id: job.id, tenantId: job.tenantId, status: JobStatus.RUNNING })
        .returning(['completed', 'failed'])
        .execute('all')) as unknown as Array<{ completed: number; failed: number }>;
      const counters = rows[0];
      if (!counters) throw new JobNotRunningSignal();
      return { committed: true as const, completed: counters.completed, failed: counters.failed, updatedAt: now, duplicates: entries.length - fresh.size };
    });
  } catch (error) {
    if (error instanceof JobNotRunningSignal) return { committed: false, reason: 'not-running' };
    throw error;
  }
}

/** Marks a job that is still active as FAILED or with a retry note; returns it as it now is. */
async function recordError(em: EntityManager, job: Job, changes: Partial<Pick<Job, 'status' | 'message' | 'error' | 'finishedAt'>>): Promise<Job> {
  await em.nativeUpdate(Job, { id: job.id, tenantId: job.tenantId, status: { $in: [JobStatus.QUEUED, JobStatus.RUNNING] } }, { ...changes, updatedAt: new Date() });
  await em.refresh(job);
  return job;
}

/** Shows what the job is doing now, while it is still RUNNING. */
async function describe(em: EntityManager, job: Job, message: string, progress: ThrottledProgress): Promise<void> {
  const now = new Date();
  const changed = await em.nativeUpdate(Job, { id: job.id, tenantId: job.tenantId, status: JobStatus.RUNNING }, { message, updatedAt: now });
  if (changed === 0) return;
  Object.assign(job, { message, updatedAt: now });
  progress.update(snapshotOf(job));
}

/** Moves a QUEUED job to RUNNING (or clears a retry's note); false when it is no longer active. */
async function markRunning(em: EntityManager, job: Job): Promise<boolean> {
  const now = new Date();
  const changes = { status: JobStatus.RUNNING, startedAt: job.startedAt ?? now, message: null, updatedAt: now };
  const changed = await em.nativeUpdate(Job, { id: job.id, tenantId: job.tenantId, status: { $in: [JobStatus.QUEUED, JobStatus.RUNNING] } }, changes);
  // The row as it now is, without reading it again (never flushed: the row is written by SQL only).
  if (changed > 0) Object.assign(job, changes);
  else await em.refresh(job);
  return changed > 0;
}

/**
 * The graphile-worker task of one kind: takes the job row, walks its items (skipping those an
 * earlier run committed), commits each one idempotently, publishes throttled progress, and ends
 * the job SUCCEEDED, or FAILED after its last attempt. An error before that rethrows, and
 * graphile-worker retries the task with exponential backoff; a retry resumes where the last one
 * stopped.
 */
export function createJobTask(kind: AnyJobKind, dependencies: JobTaskDependencies): Task {
  const { database, logger } = dependencies;
  const entity = kind.entity ?? Job;

  return async (payload: unknown, helpers: JobHelpers) => {
    await dependencies.presence();
    const { jobId, tenantId } = parsePayload(payload);
    const jobLogger = logger.child({ jobId, kind: kind.kind, attempt: helpers.job.attempts });
    const em = database.forkForTenant(tenantId);
    const job = (await em.findOne(entity, { id: jobId } as never)) as Job | null;
    if (!job) {
      jobLogger.warn('job row not found; nothing to run');
      return;
    }
    const progress: ThrottledProgress = createThrottledProgress({ store: dependencies.progress, logger: jobLogger, intervalMs: dependencies.progressIntervalMs });
    if (isTerminal(job.status) || !(await markRunning(em, job))) {
      // Cancelled before it started: make sure listeners saw the end.
      await progress.finish(snapshotOf(job));
      return;
    }
    progress.update(snapshotOf(job));
    // Aborted when the worker stops, and when a commit finds the job no longer running (a
    // pipelined item may be in flight then: its work is cut short rather than wasted).
    const runController = new AbortController();
    const abortRun = () => runController.abort(helpers.abortSignal.reason);
    if (helpers.abortSignal.aborted) abortRun();
    else helpers.abortSignal.addEventListener('abort', abortRun, { once: true });
    const attempt: JobAttempt<Job> = {
      job,
      em: database.forkForTenant(tenantId),
      logger: jobLogger,
      signal: runController.signal,
      attempt: helpers.job.attempts,
      maxAttempts: helpers.job.max_attempts,
    };
    let context: JobRunContext<Job, unknown> = { ...attempt, state: undefined };
    const processed = new Set((await em.find(JobItem, { jobId }, { fields: ['itemKey'] })).map((item) => item.itemKey));

    // Whether the run goes on after an item's commit. A pipelined kind's next item is processed
    // while the previous one commits; commits always happen one after the other, in item order.
    type Next = 'continue' | 'stop';
    const commit = async (itemKey: string, result: JobItemResult): Promise<Next> => {
      const outcome = await commitItem(database, job, itemKey, result);
      if (outcome.committed) {
        // The row as it now is, for the snapshots that follow (never flushed: the row is written by SQL only).
        // Concurrent commits may return out of order: the counts only ever grow.
        if (outcome.completed + outcome.failed >= job.completed + job.failed) Object.assign(job, { completed: outcome.completed, failed: outcome.failed, updatedAt: outcome.updatedAt });
        if (result.message !== undefined) job.message = result.message;
        progress.update(snapshotOf(job));
        return 'continue';
      }
      if (outcome.reason === 'not-running') {
        runController.abort(new Error('the job is no longer running'));
        return 'stop';
      }
      // Another run committed this item first. Items processed since may have been built on this
      // run's version of it, which was rolled back: start over from what is stored.
      if (kind.pipeline) throw new Error(`item ${itemKey} was committed by another run of this job; the attempt starts over from what is stored`);
      return 'continue';
    };
    const stop = async () => {
      await em.refresh(job);
      jobLogger.info({ status: job.status }, 'job stopped: no longer running');
      await progress.finish(snapshotOf(job));
    };
    let committing: Promise<Next> = Promise.resolve('continue');

    /**
     * Up to `concurrency` items in flight. A processed item joins the next group commit: one
     * transaction takes every item processed while the previous one ran (group commit), so a
     * busy job pays a few round trips per group instead of five per item. An item that throws
     * lets the others finish and commit before the attempt fails with its error; a commit that
     * finds the job stopped aborts the items still in flight.
     */
    const runConcurrently = async (limit: number): Promise<Next> => {
      const inFlight = new Set<Promise<void>>();
      // Written by the items in flight, so read through an object (no narrowing across awaits).
      const run: { next: Next } = { next: 'continue' };
      let failure: { error: unknown } | undefined;
      let interrupted = false;
      const ending = () => run.next === 'stop' || failure !== undefined;
      // Items processed and waiting for the next group commit, each with what resolves its wait.
      let waiting: Array<{ itemKey: string; result: JobItemResult; done: (error?: unknown) => void }> = [];
      // Cleared in the same tick as the loop finds nothing waiting, so an item that arrives after it starts the next loop.
      let groupCommitting = false;
      const commitWaiting = async () => {
        groupCommitting = true;
        while (waiting.length > 0) {
          const group = waiting.slice(0, maximumGroupCommit);
          waiting = waiting.slice(group.length);
          if (run.next === 'stop') {
            for (const entry of group) entry.done();
            continue;
          }
          try {
            const outcome = await commitItems(database, job, group);
            if (outcome.committed) {
              // The row as it now is, for the snapshots that follow (never flushed: the row is written by SQL only).
              if (outcome.completed + outcome.failed >= job.completed + job.failed) Object.assign(job, { completed: outcome.completed, failed: outcome.failed, updatedAt: outcome.updatedAt });
              const message = group.findLast((entry) => entry.result.message !== undefined)?.result.message;
              if (message !== undefined) job.message = message;
              progress.update(snapshotOf(job));
            } else {
              run.next = 'stop';
              runController.abort(new Error('the job is no longer running'));
            }
            for (const entry of group) entry.done();
          } catch (error) {
            for (const entry of group) entry.done(error);
          }
        }
        groupCommitting = false;
      };
      const commitLater = (itemKey: string, result: JobItemResult) =>
        new Promise<void>((resolve, reject) => {
          waiting.push({ itemKey, result, done: (error) => (error === undefined ? resolve() : reject(error)) });
          if (!groupCommitting) void commitWaiting();
        });
      try {
        for await (const item of kind.items(context)) {
          if (dependencies.isStopping() || helpers.abortSignal.aborted) {
            interrupted = true;
            break;
          }
          const itemKey = kind.itemKey(item);
          if (processed.has(itemKey)) continue;
          processed.add(itemKey);
          while (inFlight.size >= limit) await Promise.race(inFlight);
          if (ending()) break;
          const running = (async () => {
            try {
              const result = await kind.processItem(item, context);
              if (run.next === 'stop') return;
              await commitLater(itemKey, result);
            } catch (error) {
              failure ??= { error };
            }
          })();
          inFlight.add(running);
          void running.finally(() => inFlight.delete(running));
          if (ending()) break;
        }
      } catch (error) {
        // Listing the items failed (their source is read as the job goes): the items already in
        // flight still finish and commit before the attempt fails, as when an item throws.
        failure ??= { error };
      }
      await Promise.all(inFlight);
      if (run.next === 'stop') return 'stop';
      if (failure) throw failure.error;
      if (interrupted) throw new JobInterruptedError('the worker is stopping');
      return 'continue';
    };

    try {
      if (kind.startAttempt) context = { ...attempt, state: await kind.startAttempt(attempt) };
      const concurrency = Math.max(1, Math.floor(kind.concurrency ?? 1));
      if (concurrency > 1 && kind.pipeline) throw new Error(`job kind ${kind.kind} cannot be both pipelined and concurrent`);
      if (concurrency > 1) {
        if ((await runConcurrently(concurrency)) === 'stop') return await stop();
      } else {
        for await (const item of kind.items(context)) {
          if (dependencies.isStopping() || helpers.abortSignal.aborted) {
            if ((await committing) === 'stop') return await stop();
            throw new JobInterruptedError('the worker is stopping');
          }
          const itemKey = kind.itemKey(item);
          if (processed.has(itemKey)) continue;
          processed.add(itemKey);
          // Written beside the item's work, not before it (the message is no input to it), and after
          // the previous item's commit, so that the messages keep their order.
          const described = kind.describeItem ? committing.then(() => describe(em.fork(), job, kind.describeItem!(item, context), progress)) : Promise.resolve();
          described.catch(() => undefined);
          let result: JobItemResult;
          try {
            result = await kind.processItem(item, context);
          } catch (error) {
            // The item before it finishes its commit first; if that found the job stopped (this
            // item was then aborted), the run stops rather than fails.
            await described.catch(() => undefined);
            if ((await committing) === 'stop') return await stop();
            throw error;
          }
          await described;
          if ((await committing) === 'stop') return await stop();
          committing = commit(itemKey, result);
          // Handled here so that a failed commit waits, unreported, for the await that throws it.
          committing.catch(() => undefined);
          if (!kind.pipeline && (await committing) === 'stop') return await stop();
        }
      }
      if ((await committing) === 'stop') return await stop();
      const conclusion = (await kind.conclude?.(context)) ?? {};
      const now = new Date();
      await em.nativeUpdate(
        Job,
        { id: jobId, tenantId, status: JobStatus.RUNNING },
        { status: conclusion.status ?? JobStatus.SUCCEEDED, finishedAt: now, updatedAt: now, ...(conclusion.message === undefined ? {} : { message: conclusion.message }) },
      );
      await em.refresh(job);
      await progress.finish(snapshotOf(job));
    } catch (error) {
      await progress.flush();
      // An item cut short by the shutdown (its model call aborted, say) is the deploy's doing too.
      if (error instanceof JobInterruptedError || dependencies.isStopping() || helpers.abortSignal.aborted) {
        // Handed back without using up an attempt: a deploy is not the job's fault. The queued
        // replacement takes over the job key; this run then ends as done.
        await helpers.addJob(kind.kind, { jobId, tenantId } satisfies JobTaskPayload, { jobKey: jobId, queueName: kind.queueOf?.(job), maxAttempts: helpers.job.max_attempts });
        dependencies.onHandedBack(helpers.job.id);
        jobLogger.info('job handed back: the worker is stopping');
        return;
      }
      const errorText = (error instanceof Error ? (error.stack ?? error.message) : String(error)).slice(0, maximumErrorLength);
      const { attempts, max_attempts: maxAttempts } = helpers.job;
      if (attempts >= maxAttempts) {
        jobLogger.error({ err: error }, 'job failed on its last attempt');
        const failed = await recordError(em, job, {
          status: JobStatus.FAILED,
          message: `Failed after ${attempts} attempt${attempts === 1 ? '' : 's'}; items already processed are kept.`,
          error: errorText,
          finishedAt: new Date(),
        });
        await progress.finish(snapshotOf(failed));
        return;
      }
      jobLogger.warn({ err: error }, 'job attempt failed; it will be retried');
      const retrying = await recordError(em, job, { message: `An error interrupted the job; retrying (attempt ${attempts} of ${maxAttempts} failed).`, error: errorText });
      progress.update(snapshotOf(retrying));
      await progress.flush();
      throw error;
    }
  };
}
