import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChainableCommander, Redis } from 'ioredis';

// Deletes the lock only if it is still the holder's: it may have expired and been taken by another process.
const releaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
// Extends the lock only if it is still the holder's.
const extendScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * A lock across processes, held in Redis under one key (`SET key token NX PX ttl`): one holder at
 * a time, for at most its time to live, so a holder that dies frees it. Only the holder releases
 * it, never a later one after it expired.
 */
export class RedisLock {
  private released = false;

  private constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly token: string,
  ) {}

  /** The lock at `key`, or null when another holder has it. Redis errors are thrown: the caller decides what an unknown lock means. */
  static async acquire(redis: Redis, key: string, ttlMs: number): Promise<RedisLock | null> {
    const token = randomBytes(12).toString('hex');
    const acquired = await redis.set(key, token, 'PX', ttlMs, 'NX');
    return acquired === 'OK' ? new RedisLock(redis, key, token) : null;
  }

  /**
   * Gives a lock held for long work (watching a mailbox) another `ttlMs` from now. False when it is
   * no longer this holder's (it expired, and perhaps another process took it): stop the work.
   */
  async extend(ttlMs: number): Promise<boolean> {
    if (this.released) return false;
    return (await this.redis.eval(extendScript, 1, this.key, this.token, String(ttlMs))) === 1;
  }

  /** Releases the lock if it is still this holder's. Again is a no-op. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.redis.eval(releaseScript, 1, this.key, this.token);
  }

  /**
   * Queues the release on `pipeline`, after the commands it already holds, so that a result and
   * the release reach Redis in one round trip, in that order: whoever waits for the release finds
   * the result.
   */
  releaseAfter(pipeline: ChainableCommander): ChainableCommander {
    this.released = true;
    return pipeline.eval(releaseScript, 1, this.key, this.token);
  }
}

export interface WaitForReleaseOptions<Found> {
  /** Longest wait: the lock's time to live, after which a crashed holder's lock is gone anyway. */
  timeoutMs: number;
  /** How often to look. */
  pollMs: number;
  /** Stops the wait. Default: none. */
  signal?: AbortSignal;
  /** Looked at before the lock on every round: what it finds ends the wait early (the holder's stored answer). Default: none. */
  poll?: () => Promise<Found | undefined>;
}

/** How a wait for a lock ended. */
export type LockWait<Found> =
  /** `poll` found something before the lock was gone. */
  | { outcome: 'found'; found: Found }
  /** The lock is gone: released by its holder, or expired. */
  | { outcome: 'released' }
  /** The wait timed out or was aborted with the lock still held. */
  | { outcome: 'gave-up' };

/** Waits for the lock at `key` to be released or to expire, looking every `pollMs`. Redis errors are thrown. */
export async function waitForRelease<Found = never>(redis: Redis, key: string, options: WaitForReleaseOptions<Found>): Promise<LockWait<Found>> {
  const deadline = Date.now() + options.timeoutMs;
  while (!options.signal?.aborted && Date.now() < deadline) {
    await sleep(options.pollMs, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal?.aborted) break;
    const found = await options.poll?.();
    if (found !== undefined) return { outcome: 'found', found };
    if ((await redis.exists(key)) === 0) return { outcome: 'released' };
  }
  return { outcome: 'gave-up' };
}
