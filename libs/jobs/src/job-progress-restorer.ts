import type { Database, Logger, Redis } from '@gtm/runtime';
import { activeJobStatuses, Job } from './job.entity.js';
import { createJobProgressStore, snapshotOf } from './job-progress.js';

export interface JobProgressRestorerOptions {
  /** The service's database, whose `job` table is the truth about its jobs. */
  database: Database;
  /** The connected client progress is written with; each time it (re)connects, progress is restored. */
  redis: Redis;
  logger: Logger;
  /** How long a finished job's progress is kept (the store's retention). Default: 86 400 s. */
  finishedRetentionSeconds?: number;
  /** Most jobs restored in one pass, the most recently changed first. Default: 10 000. */
  maximumJobs?: number;
}

export interface JobProgressRestorer {
  /** Restores every missing snapshot now; resolves with how many were missing. */
  restoreNow(): Promise<number>;
  stop(): void;
}

/** Snapshots written at once, so one pass over thousands of jobs does not flood Redis. */
const batchSize = 100;

/**
 * Progress lives in Redis, but the job row in PostgreSQL is the truth. A Redis that restarted
 * empty (or lost keys) would leave every job without progress: a running job until its next
 * change, a finished one for good (`jobProgress` null, a subscriber waiting forever). So each time
 * the service's Redis connection becomes ready, and once at start, the snapshot of every job that
 * may still be asked about (active, or finished within the retention) is written from its row
 * where Redis has none, and published, so subscribers following the job hear it.
 */
export function startJobProgressRestorer(options: JobProgressRestorerOptions): JobProgressRestorer {
  const { database, redis, logger } = options;
  const finishedRetentionSeconds = options.finishedRetentionSeconds ?? 86_400;
  const store = createJobProgressStore({ redis, finishedRetentionSeconds });
  let running: Promise<number> | null = null;

  const restore = async (): Promise<number> => {
    const finishedSince = new Date(Date.now() - finishedRetentionSeconds * 1000);
    // Across tenants: this is the service looking after its own jobs, not a request.
    const jobs = await database.orm.em
      .fork()
      .find(Job, { $or: [{ status: { $in: [...activeJobStatuses] } }, { finishedAt: { $gt: finishedSince } }] }, { filters: false, orderBy: { updatedAt: 'desc' }, limit: options.maximumJobs ?? 10_000 });
    let restored = 0;
    for (let start = 0; start < jobs.length; start += batchSize) {
      const answers = await Promise.all(jobs.slice(start, start + batchSize).map((job) => store.restore(snapshotOf(job), job.finishedAt)));
      restored += answers.filter(Boolean).length;
    }
    if (restored > 0) logger.info({ restored, jobs: jobs.length }, 'restored job progress that Redis no longer had, from the job rows');
    return restored;
  };

  const restoreNow = () => (running ??= restore().finally(() => (running = null)));
  const onReady = () => {
    restoreNow().catch((error: unknown) => logger.warn({ err: error }, 'could not restore job progress in Redis; it comes back with each job’s next change'));
  };
  redis.on('ready', onReady);
  if (redis.status === 'ready') onReady();
  return { restoreNow, stop: () => redis.off('ready', onReady) };
}
