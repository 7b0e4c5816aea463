import { createHash } from 'node:crypto';
import { RedisLock, waitForRelease } from '@gtm/redis-lock';
import type { Redis } from 'ioredis';
import type { LlmLogger } from './llm.logger.js';

export interface LlmCacheOptions {
  redis: Redis;
  /** Prefix of every key, after the client's own `keyPrefix`. */
  keyPrefix: string;
  ttlSeconds: number;
  /** How long another process may hold the right to make a call before others stop waiting for it. */
  lockTtlMs: number;
  /** How often a waiting process looks for the answer. */
  lockPollMs: number;
  logger: LlmLogger;
}

export interface LlmCacheLock {
  /** Stores the answer and releases the lock in one round trip, in that order, so waiters find the answer. */
  storeAndRelease(key: string, value: string): Promise<void>;
  /** Releases the lock (again is a no-op). */
  release(): Promise<void>;
}

export interface LlmCache {
  /** The answer of the first key (in provider order) that has one. */
  lookup(keys: string[]): Promise<{ index: number; value: string } | undefined>;
  store(key: string, value: string): Promise<void>;
  /** The right to make this call across processes; undefined when another process holds it. */
  tryLock(fingerprint: string): Promise<LlmCacheLock | undefined>;
  /** Waits for the process holding the lock to store its answer; undefined if it gave up or failed. */
  waitForAnswer(keys: string[], fingerprint: string, signal: AbortSignal): Promise<{ index: number; value: string } | undefined>;
}

/** sha256 over the parts as a JSON array, so `("ab", "c")` and `("a", "bc")` never collide. */
export function cacheHash(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * Answers in Redis. Redis trouble never fails a call: a failed read is a miss, a failed write is
 * logged, a failed lock means "go ahead".
 */
export function createLlmCache(options: LlmCacheOptions): LlmCache {
  const { redis, keyPrefix, logger } = options;
  const lockKey = (fingerprint: string) => `${keyPrefix}lock:${fingerprint}`;
  const warn = (action: string, error: unknown) => logger.warn({ error: error instanceof Error ? error.message : String(error) }, `LLM cache ${action} failed; continuing without it`);

  const lookup = async (keys: string[]) => {
    if (keys.length === 0) return undefined;
    try {
      const values = await redis.mget(...keys);
      const index = values.findIndex((value) => value !== null);
      return index < 0 ? undefined : { index, value: values[index] as string };
    } catch (error) {
      warn('read', error);
      return undefined;
    }
  };

  const store = async (key: string, value: string) => {
    try {
      await redis.set(key, value, 'EX', options.ttlSeconds);
    } catch (error) {
      warn('write', error);
    }
  };

  return {
    lookup,
    store,
    async tryLock(fingerprint) {
      let lock: RedisLock | null;
      try {
        lock = await RedisLock.acquire(redis, lockKey(fingerprint), options.lockTtlMs);
      } catch (error) {
        warn('lock', error);
        return { storeAndRelease: (answerKey, value) => store(answerKey, value), release: async () => {} };
      }
      if (!lock) return undefined;
      const held = lock;
      return {
        async storeAndRelease(answerKey, value) {
          try {
            const results = (await held.releaseAfter(redis.pipeline().set(answerKey, value, 'EX', options.ttlSeconds)).exec()) ?? [];
            const failed = results.find(([error]) => error);
            if (failed) warn('write', failed[0]);
          } catch (error) {
            warn('write', error);
          }
        },
        async release() {
          try {
            await held.release();
          } catch (error) {
            warn('unlock', error);
          }
        },
      };
    },
    async waitForAnswer(keys, fingerprint, signal) {
      try {
        const wait = await waitForRelease(redis, lockKey(fingerprint), { timeoutMs: options.lockTtlMs, pollMs: options.lockPollMs, signal, poll: () => lookup(keys) });
        if (wait.outcome === 'found') return wait.found;
        // The holder may have stored its answer and released the lock between our two reads:
        // look once more before calling upstream ourselves.
        return wait.outcome === 'released' ? await lookup(keys) : undefined;
      } catch (error) {
        warn('lock check', error);
        return undefined;
      }
    },
  };
}
