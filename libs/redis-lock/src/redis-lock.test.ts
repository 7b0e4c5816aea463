import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testEnvironment, uniqueRedisPrefix } from '@gtm/testing';
import { Redis } from 'ioredis';
import { RedisLock, waitForRelease } from './redis-lock.js';

let redis: Redis;
// Two clients, as two processes would hold them.
let other: Redis;

beforeAll(() => {
  const keyPrefix = uniqueRedisPrefix();
  redis = new Redis(testEnvironment.redisUrl, { keyPrefix });
  other = new Redis(testEnvironment.redisUrl, { keyPrefix });
});

afterAll(() => {
  redis?.disconnect();
  other?.disconnect();
});

describe('RedisLock', () => {
  it('has one holder at a time, and is free again once released', async () => {
    const first = await RedisLock.acquire(redis, 'one-holder', 10_000);
    expect(first).not.toBeNull();
    expect(await RedisLock.acquire(other, 'one-holder', 10_000)).toBeNull();
    await first!.release();
    await first!.release();
    expect(await RedisLock.acquire(other, 'one-holder', 10_000)).not.toBeNull();
  });

  it('frees itself when its holder never releases it, and an expired holder cannot release the next one\'s lock', async () => {
    const crashed = await RedisLock.acquire(redis, 'expiring', 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const next = await RedisLock.acquire(other, 'expiring', 10_000);
    expect(next).not.toBeNull();
    await crashed!.release();
    expect(await RedisLock.acquire(redis, 'expiring', 10_000)).toBeNull();
    expect(await other.exists('expiring')).toBe(1);
  });

  it('extends a lock only for its holder: an expired holder learns it lost the lock', async () => {
    // A first time to live a loaded machine cannot use up before the extension is asked for.
    const holder = await RedisLock.acquire(redis, 'long-work', 2_000);
    expect(await holder!.extend(10_000)).toBe(true);
    // Extended: it now lives well past its first time to live, and nobody else can take it.
    expect(await other.pttl('long-work')).toBeGreaterThan(5_000);
    expect(await RedisLock.acquire(other, 'long-work', 10_000)).toBeNull();
    const lapsed = await RedisLock.acquire(redis, 'lapsing', 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const taker = await RedisLock.acquire(other, 'lapsing', 10_000);
    expect(await lapsed!.extend(10_000)).toBe(false);
    expect(await other.pttl('lapsing')).toBeGreaterThan(5_000);
    await taker!.release();
    expect(await taker!.extend(10_000)).toBe(false);
  });

  it('releases after the commands of a pipeline, so a waiter finds what the holder stored', async () => {
    const holder = await RedisLock.acquire(redis, 'answer-lock', 10_000);
    const waiting = waitForRelease(other, 'answer-lock', { timeoutMs: 5_000, pollMs: 10, poll: async () => (await other.get('answer')) ?? undefined });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await holder!.releaseAfter(redis.pipeline().set('answer', '42', 'EX', 60)).exec();
    // The waiter finds the answer on a poll, or sees the lock gone, by which time the answer is there.
    const wait = await waiting;
    expect(wait.outcome === 'found' ? wait.found : await other.get('answer')).toBe('42');
    expect(wait.outcome).not.toBe('gave-up');
    expect(await redis.exists('answer-lock')).toBe(0);
  });
});

describe('waitForRelease', () => {
  it('ends when the lock is released, and gives up at its timeout or when aborted', async () => {
    const holder = await RedisLock.acquire(redis, 'waited-on', 10_000);
    expect(await waitForRelease(other, 'waited-on', { timeoutMs: 60, pollMs: 10 })).toEqual({ outcome: 'gave-up' });
    const aborted = new AbortController();
    const abortedWait = waitForRelease(other, 'waited-on', { timeoutMs: 5_000, pollMs: 10, signal: aborted.signal });
    aborted.abort();
    expect(await abortedWait).toEqual({ outcome: 'gave-up' });
    const released = waitForRelease(other, 'waited-on', { timeoutMs: 5_000, pollMs: 10 });
    await holder!.release();
    expect(await released).toEqual({ outcome: 'released' });
  });
});
