import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger, Redis } from '@gtm/runtime';

export interface AnalysisSingleFlightOptions {
  redis: Redis;
  logger: Logger;
  /** Longest one analysis may hold the lock; a crashed holder's lock expires after it. Default: 180 000 ms. */
  lockTtlMs?: number;
  /** How often a waiting process looks whether the holder has finished. Default: 100 ms. */
  pollMs?: number;
  /** Default: none. */
  keyPrefix?: string;
}

// Deletes the lock only if it is still ours: an expired lock may already belong to someone else.
const releaseScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Makes concurrent analyses of one site share one crawl: callers in this process join the
 * promise in flight; other processes wait on a Redis lock, then take the result the holder
 * stored. When the holder failed, the next waiter tries itself. Redis trouble never fails an
 * analysis: it only costs the sharing across processes.
 */
export class AnalysisSingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly lockTtlMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: AnalysisSingleFlightOptions) {
    this.lockTtlMs = options.lockTtlMs ?? 180_000;
    this.pollMs = options.pollMs ?? 100;
  }

  /**
   * Runs `work` once for `key` at a time. `findFinished` returns what another process stored
   * while this one waited (or null when it stored nothing, i.e. failed).
   */
  run<Result>(key: string, work: () => Promise<Result>, findFinished: () => Promise<Result | null>): Promise<Result> {
    const joined = this.inFlight.get(key) as Promise<Result> | undefined;
    if (joined) return joined;
    const flight = this.runAcrossProcesses(key, work, findFinished).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, flight);
    return flight;
  }

  private async runAcrossProcesses<Result>(key: string, work: () => Promise<Result>, findFinished: () => Promise<Result | null>): Promise<Result> {
    const lockKey = `${this.options.keyPrefix ?? ''}content:analysis-lock:${key}`;
    const token = randomUUID();
    for (;;) {
      const acquired = await this.tryLock(lockKey, token);
      if (acquired) {
        try {
          return await work();
        } finally {
          await this.options.redis.eval(releaseScript, 1, lockKey, token).catch(() => undefined);
        }
      }
      await this.waitForRelease(lockKey);
      const finished = await findFinished();
      if (finished !== null) return finished;
    }
  }

  /** True when this process may crawl: it holds the lock, or Redis cannot say otherwise. */
  private async tryLock(lockKey: string, token: string): Promise<boolean> {
    try {
      return (await this.options.redis.set(lockKey, token, 'PX', this.lockTtlMs, 'NX')) === 'OK';
    } catch (error) {
      this.options.logger.warn({ err: error }, 'analysis lock unavailable; analysing without cross-process sharing');
      return true;
    }
  }

  private async waitForRelease(lockKey: string): Promise<void> {
    const deadline = Date.now() + this.lockTtlMs;
    while (Date.now() < deadline) {
      await sleep(this.pollMs);
      try {
        if ((await this.options.redis.exists(lockKey)) === 0) return;
      } catch {
        return;
      }
    }
  }
}
