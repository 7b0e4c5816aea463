import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createRedis } from '@gtm/runtime';
import { testEnvironment } from '@gtm/testing';
import { AnalysisSingleFlight } from './analysis-single-flight.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const redis = createRedis({ url: testEnvironment.redisUrl });
// Two instances on one Redis stand for two service processes.
const keyPrefix = `test:${randomUUID()}:`;
const processA = new AnalysisSingleFlight({ redis, logger, pollMs: 10, keyPrefix });
const processB = new AnalysisSingleFlight({ redis, logger, pollMs: 10, keyPrefix });

beforeAll(() => redis.connect());
afterAll(() => redis.quit());

describe('analysis single-flight', () => {
  it('runs the work once for callers in one process', async () => {
    let runs = 0;
    const work = async () => {
      runs += 1;
      await sleep(30);
      return 'analysis';
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => processA.run('site-1', work, async () => null)));
    expect(results).toEqual(Array.from({ length: 10 }, () => 'analysis'));
    expect(runs).toBe(1);
  });

  it('makes another process wait for the holder and take what it stored', async () => {
    let stored: string | null = null;
    let runs = 0;
    const work = async () => {
      runs += 1;
      await sleep(50);
      stored = 'stored by the holder';
      return stored;
    };
    const [first, second] = await Promise.all([processA.run('site-2', work, async () => stored), (async () => (await sleep(5), processB.run('site-2', work, async () => stored)))()]);
    expect(runs).toBe(1);
    expect(first).toBe('stored by the holder');
    expect(second).toBe('stored by the holder');
  });

  it('lets the waiter try itself when the holder failed', async () => {
    let runs = 0;
    const failing = async () => {
      runs += 1;
      await sleep(30);
      throw new Error('site down');
    };
    const succeeding = async () => {
      runs += 1;
      return 'second try';
    };
    const [first, second] = await Promise.allSettled([processA.run('site-3', failing, async () => null), (async () => (await sleep(5), processB.run('site-3', succeeding, async () => null)))()]);
    expect(first).toMatchObject({ status: 'rejected' });
    expect(second).toEqual({ status: 'fulfilled', value: 'second try' });
    expect(runs).toBe(2);
  });

  it('still runs the work when Redis cannot answer, only without sharing across processes', async () => {
    const unreachable = createRedis({ url: 'redis://127.0.0.1:1' });
    const isolated = new AnalysisSingleFlight({ redis: unreachable, logger, pollMs: 10 });
    try {
      expect(await isolated.run('site-4', async () => 'analysed anyway', async () => null)).toBe('analysed anyway');
    } finally {
      unreachable.disconnect();
    }
  });
});
