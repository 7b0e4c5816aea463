import { Redis } from 'ioredis';

export type { Redis } from 'ioredis';

export interface CreateRedisOptions {
  url: string;
  /** Prefix for every key, so services and tests never collide. Default: none. */
  keyPrefix?: string;
}

/**
 * One Redis connection per process. Commands fail fast while Redis is down (no offline queue), so
 * a request sees an error instead of hanging, and the connection keeps retrying in the background.
 */
export function createRedis(options: CreateRedisOptions): Redis {
  return new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
}

/**
 * Closes a connection for good. QUIT needs a connection: while Redis is away the client is waiting
 * to reconnect, QUIT fails at once (no offline queue) and the client would go on reconnecting
 * forever, keeping the process alive. Then the connection is dropped instead.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
