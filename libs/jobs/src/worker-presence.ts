import type { Logger } from '@gtm/runtime';
import pg from 'pg';

export interface WorkerPresenceOptions {
  databaseUrl: string;
  /** The quoted graphile-worker schema. */
  quotedWorkerSchema: string;
  logger: Logger;
  /**
   * A lock younger than this is never taken over, so a pool that has just locked its first job
   * but not yet announced itself is not mistaken for a dead one. Default: 2 000 ms.
   */
  lockGraceMs?: number;
}

export interface WorkerPresence {
  /** Announces a graphile-worker pool of this process as alive, for as long as this process lives. */
  announce(poolId: string): Promise<void>;
  /** Resolves once every pool announced so far is announced. */
  settled(): Promise<void>;
  /**
   * Unlocks the jobs held by pools that are no longer alive, so that a worker picks them up again
   * at once rather than after graphile-worker's four-hour lock expiry. Resolves with the pools
   * found dead.
   */
  releaseJobsOfDeadWorkers(): Promise<string[]>;
  /**
   * Once this process's pools have stopped: completes the given graphile-worker tasks (handed back,
   * so replaced by new ones) and unlocks whatever the pools still hold, jobs and queues.
   */
  releaseOwnJobs(finishedJobIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

// 64-bit advisory lock keys, one per pool id; the namespace keeps them apart from any other use.
const lockKey = `hashtextextended('gtm-job-worker:' || $1, 0)`;

/**
 * graphile-worker marks a job it runs as locked by its pool and frees it when the job ends; a
 * process killed outright (OOM, SIGKILL, a lost machine) leaves the lock for four hours. Here each
 * pool holds a session-level advisory lock named after it on a connection of its own, for as long
 * as its process lives: PostgreSQL drops the lock the moment that connection dies. A pool whose
 * lock can be taken is therefore dead, and its jobs are handed back with graphile-worker's own
 * `force_unlock_workers`. Items are idempotent, so even a live pool wrongly found dead would cost a
 * repeated attempt, never a doubled item.
 */
export function createWorkerPresence(options: WorkerPresenceOptions): WorkerPresence {
  const { logger, quotedWorkerSchema } = options;
  const lockGraceMs = options.lockGraceMs ?? 2_000;
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'gtm-job-worker-presence' });
  const ownPools = new Set<string>();
  let connected: Promise<void> | null = null;
  let pending: Promise<unknown> = Promise.resolve();
  let closed = false;

  client.on('error', (error) => logger.error({ err: error }, 'the job worker lost its presence connection; its jobs may be taken over'));
  const connect = () => (connected ??= client.connect().then(() => undefined));

  // One query at a time on the one connection, in the order asked.
  const run = <Result>(step: () => Promise<Result>): Promise<Result> => {
    const result = pending.then(async () => {
      await connect();
      return step();
    });
    pending = result.catch(() => undefined);
    return result;
  };

  return {
    announce(poolId) {
      ownPools.add(poolId);
      return run(async () => {
        await client.query(`select pg_advisory_lock(${lockKey})`, [poolId]);
      });
    },
    settled: () => pending.then(() => undefined),
    releaseJobsOfDeadWorkers() {
      return run(async () => {
        const { rows } = await client.query<{ locked_by: string }>(
          `select distinct locked_by from ${quotedWorkerSchema}.jobs where locked_by is not null and locked_at < now() - make_interval(secs => $1)`,
          [lockGraceMs / 1000],
        );
        const dead: string[] = [];
        for (const { locked_by: poolId } of rows) {
          if (ownPools.has(poolId)) continue;
          const { rows: taken } = await client.query<{ free: boolean }>(`select pg_try_advisory_lock(${lockKey}) as free`, [poolId]);
          if (!taken[0]?.free) continue;
          await client.query(`select pg_advisory_unlock(${lockKey})`, [poolId]);
          dead.push(poolId);
        }
        if (dead.length > 0) {
          await client.query(`select ${quotedWorkerSchema}.force_unlock_workers($1::text[])`, [dead]);
          logger.warn({ pools: dead }, 'released the jobs of job workers that died; they resume now');
        }
        return dead;
      });
    },
    releaseOwnJobs(finishedJobIds) {
      return run(async () => {
        if (finishedJobIds.length > 0) await client.query(`select ${quotedWorkerSchema}.complete_jobs($1::bigint[])`, [finishedJobIds]);
        if (ownPools.size > 0) await client.query(`select ${quotedWorkerSchema}.force_unlock_workers($1::text[])`, [[...ownPools]]);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await pending;
      if (connected) await client.end();
    },
  };
}
