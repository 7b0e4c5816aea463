// Against the real Redis: commands sent in one turn of the event loop with the connection's writes
// held leave in one socket write and are answered as if sent one by one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testEnvironment, uniqueRedisPrefix } from '@gtm/testing';
import { createRedis, createTurnWriteBatching, type Redis } from './redis.js';

let redis: Redis;

beforeAll(async () => {
  redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: uniqueRedisPrefix() });
  await redis.connect();
});

afterAll(async () => {
  await redis.quit();
});

// Node's socket writes one chunk through `_write` and several held ones through `_writev`.
const writeOne = '_write';
const writeMany = '_writev';

/** How many times the connection's socket wrote, and how many commands each write carried. */
function watchWrites(connection: Redis): { writes: number[]; stop(): void } {
  const socket = connection.stream as unknown as Record<typeof writeOne | typeof writeMany, (...parameters: unknown[]) => unknown>;
  const single = socket[writeOne];
  const many = socket[writeMany];
  const writes: number[] = [];
  socket[writeOne] = function (...parameters) {
    writes.push(1);
    return single.apply(this, parameters);
  };
  socket[writeMany] = function (...parameters) {
    writes.push((parameters[0] as unknown[]).length);
    return many.apply(this, parameters);
  };
  return {
    writes,
    stop() {
      socket[writeOne] = single;
      socket[writeMany] = many;
    },
  };
}

describe('createTurnWriteBatching', () => {
  it('sends the commands of one turn in one write, each answered with its own reply', async () => {
    const batching = createTurnWriteBatching(redis);
    const watched = watchWrites(redis);
    const replies = Array.from({ length: 5 }, (_, index) => {
      batching();
      return redis.incrby('counter', index + 1);
    });
    const answered = await Promise.all(replies);
    watched.stop();

    expect(answered).toEqual([1, 3, 6, 10, 15]);
    expect(watched.writes).toEqual([5]);
  });

  it('holds nothing past the turn: commands of the next turns leave in writes of their own', async () => {
    const batching = createTurnWriteBatching(redis);
    const watched = watchWrites(redis);
    batching();
    expect(await redis.set('first', 'a')).toBe('OK');
    batching();
    expect(await redis.get('first')).toBe('a');
    watched.stop();

    expect(watched.writes).toEqual([1, 1]);
  });

  it('leaves a connection that is not ready alone, and its command fails as before', async () => {
    const closed = createRedis({ url: testEnvironment.redisUrl });
    const batching = createTurnWriteBatching(closed);
    batching();
    await expect(closed.get('anything')).rejects.toThrow();
    closed.disconnect();
  });
});
