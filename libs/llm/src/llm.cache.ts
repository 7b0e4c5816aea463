import { createHash, randomBytes } from 'node:crypto';
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

// Deletes the lock only if it is still ours: it may have expired and been taken by another process.
const releaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

const sleep = (milliseconds: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, milliseconds);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

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
      const token = randomBytes(12).toString('hex');
      const key = lockKey(fingerprint);
      try {
        const acquired = await redis.set(key, token, 'PX', options.lockTtlMs, 'NX');
        if (acquired !== 'OK') return undefined;
      } catch (error) {
        warn('lock', error);
        return { storeAndRelease: (answerKey, value) => store(answerKey, value), release: async () => {} };
      }
      let released = false;
      return {
        async storeAndRelease(answerKey, value) {
          released = true;
          try {
            const results = (await redis.pipeline().set(answerKey, value, 'EX', options.ttlSeconds).eval(releaseScript, 1, key, token).exec()) ?? [];
            const failed = results.find(([error]) => error);
            if (failed) warn('write', failed[0]);
          } catch (error) {
            warn('write', error);
          }
        },
        async release() {
          if (released) return;
          released = true;
          try {
            await redis.eval(releaseScript, 1, key, token);
          } catch (error) {
            warn('unlock', error);
          }
        },
      };
    },
    async waitForAnswer(keys, fingerprint, signal) {
      const deadline = Date.now() + options.lockTtlMs;
      while (!signal.aborted && Date.now() < deadline) {
        await sleep(options.lockPollMs, signal);
        const found = await lookup(keys);
        if (found) return found;
        try {
          // The holder may have stored its answer and released the lock between our two reads:
          // look once more before calling upstream ourselves.
          if ((await redis.exists(lockKey(fingerprint))) === 0) return (await lookup(keys)) ?? undefined;
        } catch (error) {
          warn('lock check', error);
          return undefined;
        }
      }
      return undefined;
    },
  };
}
