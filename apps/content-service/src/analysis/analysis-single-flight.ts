import { RedisLock, waitForRelease } from '@gtm/redis-lock';
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
    for (;;) {
      const lock = await this.tryLock(lockKey);
      if (lock !== null) {
        try {
          return await work();
        } finally {
          await lock?.release().catch(() => undefined);
        }
      }
      // Redis trouble while waiting ends the wait: the next round crawls, or finds what was stored.
      await waitForRelease(this.options.redis, lockKey, { timeoutMs: this.lockTtlMs, pollMs: this.pollMs }).catch(() => undefined);
      const finished = await findFinished();
      if (finished !== null) return finished;
    }
  }

  /** The lock when this process may crawl; undefined when it may crawl because Redis cannot say otherwise; null when another holds it. */
  private async tryLock(lockKey: string): Promise<RedisLock | null | undefined> {
    try {
      return await RedisLock.acquire(this.options.redis, lockKey, this.lockTtlMs);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'analysis lock unavailable; analysing without cross-process sharing');
      return undefined;
    }
  }
}
