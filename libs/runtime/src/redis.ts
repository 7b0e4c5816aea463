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

/**
 * Holds a connection's writes until the current turn of the event loop ends, so the commands sent
 * for every request handled in that turn leave in one socket write instead of one each. Call the
 * returned function right before sending a command that many requests send. A busy gateway handles
 * several requests per turn; one loopback write each cost it (and Redis, woken for each) about as
 * much CPU as the rest of its own work on a request (docs/BENCHMARKS.md). Redis receives the same
 * commands in the same order; they leave by this turn's check phase (`setImmediate`), before the
 * event loop waits for anything, so an answer is not delayed by more than the turn's own work.
 */
export function createTurnWriteBatching(redis: Redis): () => void {
  let held = false;
  return () => {
    const socket = redis.stream;
    if (held || redis.status !== 'ready' || !socket) return;
    held = true;
    socket.cork();
    setImmediate(() => {
      held = false;
      socket.uncork();
    });
  };
}
