import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createRedis, type Redis } from '@gtm/runtime';
import { testEnvironment, uniqueRedisPrefix } from '@gtm/testing';
import { JobStatus } from './job.entity.js';
import { createJobProgressFeed, type JobProgressFeed } from './job-progress-feed.js';
import { createJobProgressStore, parseJobProgressMessage, type JobProgressEvent, type JobProgressSnapshot } from './job-progress.js';
import { createThrottledProgress } from './progress-throttle.js';
import { testJobProgressSnapshot } from './testing/index.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const prefix = uniqueRedisPrefix();
let redis: Redis;
let listener: Redis;

beforeAll(async () => {
  redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: prefix });
  listener = createRedis({ url: testEnvironment.redisUrl });
  await Promise.all([redis.connect(), listener.connect()]);
});

afterAll(async () => {
  redis?.disconnect();
  listener?.disconnect();
});

const snapshot = testJobProgressSnapshot;

/** Resolves once `predicate` holds for the events collected so far. */
function collector() {
  const events: JobProgressEvent[] = [];
  let waiting: { predicate: (events: JobProgressEvent[]) => boolean; resolve: () => void } | null = null;
  return {
    events,
    push(event: JobProgressEvent) {
      events.push(event);
      if (waiting?.predicate(events)) waiting.resolve();
    },
    until(predicate: (events: JobProgressEvent[]) => boolean) {
      return predicate(events) ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { predicate, resolve }));
    },
  };
}

describe('the progress store', () => {
  it('keeps the latest snapshot under the key prefix and publishes each change on the prefixed channel', async () => {
    const store = createJobProgressStore({ redis });
    const first = snapshot();
    const heard = collector();
    const raw = listener.duplicate();
    await raw.connect();
    await raw.subscribe(`${prefix}job-progress:${first.jobId}`);
    raw.on('message', (_channel: string, message: string) => heard.push(parseJobProgressMessage(message)!));

    expect(await store.write(first)).toEqual({ sequence: 1, snapshot: first });
    const second = { ...first, completed: 4, failed: 1 };
    expect(await store.write(second)).toEqual({ sequence: 2, snapshot: second });
    await heard.until((events) => events.length === 2);
    expect(heard.events).toEqual([
      { sequence: 1, snapshot: first },
      { sequence: 2, snapshot: second },
    ]);
    expect(await store.read(first.jobId)).toEqual({ sequence: 2, snapshot: second });
    expect(await listener.exists(`${prefix}job-progress:${first.jobId}`)).toBe(1);
    expect(await listener.exists(`job-progress:${first.jobId}`)).toBe(0);
    raw.disconnect();
  });

  it('never moves a job backwards: nothing after a terminal status, no earlier stage, no fewer items', async () => {
    const store = createJobProgressStore({ redis });
    const running = snapshot({ completed: 5 });
    await store.write(running);
    expect(await store.write({ ...running, status: JobStatus.QUEUED, completed: 0 })).toBeNull();
    expect(await store.write({ ...running, completed: 4 })).toBeNull();
    expect(await store.write({ ...running, status: JobStatus.CANCELLED })).toMatchObject({ sequence: 2 });
    expect(await store.write({ ...running, completed: 6 })).toBeNull();
    expect(await store.write({ ...running, status: JobStatus.SUCCEEDED, completed: 10 })).toBeNull();
    expect((await store.read(running.jobId))?.snapshot.status).toBe(JobStatus.CANCELLED);
  });

  it('keeps an active snapshot for the active retention and a finished one for the finished retention', async () => {
    const store = createJobProgressStore({ redis, activeRetentionSeconds: 5_000, finishedRetentionSeconds: 60 });
    const job = snapshot();
    await store.write(job);
    expect(await redis.ttl(`job-progress:${job.jobId}`)).toBeGreaterThan(60);
    await store.write({ ...job, status: JobStatus.SUCCEEDED, completed: 10 });
    const ttl = await redis.ttl(`job-progress:${job.jobId}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('answers null for a job it does not know', async () => {
    expect(await createJobProgressStore({ redis }).read(randomUUID())).toBeNull();
  });
});

/** A clock and timer the test moves by hand. */
function manualClock() {
  let time = 0;
  let timers: Array<{ at: number; callback: () => void }> = [];
  return {
    now: () => time,
    schedule(callback: () => void, delayMs: number) {
      const timer = { at: time + delayMs, callback };
      timers.push(timer);
      return () => (timers = timers.filter((candidate) => candidate !== timer));
    },
    advance(milliseconds: number) {
      time += milliseconds;
      const due = timers.filter((timer) => timer.at <= time);
      timers = timers.filter((timer) => timer.at > time);
      for (const timer of due) timer.callback();
    },
  };
}

function recordingStore() {
  const written: JobProgressSnapshot[] = [];
  return { written, store: { write: async (value: JobProgressSnapshot) => (written.push(value), { sequence: written.length, snapshot: value }), read: async () => null } };
}

describe('throttled progress', () => {
  it('writes at most one update per interval, the latest one on the trailing edge, and the terminal one at once', async () => {
    const clock = manualClock();
    const { written, store } = recordingStore();
    const progress = createThrottledProgress({ store, logger, intervalMs: 100, now: clock.now, schedule: clock.schedule });
    const job = snapshot({ total: 1_000 });
    // 1,000 updates spread over one simulated second.
    for (let completed = 1; completed <= 1_000; completed += 1) {
      progress.update({ ...job, completed });
      clock.advance(1);
    }
    await progress.flush();
    expect(written.length).toBeGreaterThanOrEqual(10);
    expect(written.length).toBeLessThanOrEqual(11);
    expect(written.at(-1)?.completed).toBe(1_000);
    const counts = written.map((value) => value.completed);
    expect(counts).toEqual(counts.toSorted((left, right) => left - right));

    progress.update({ ...job, completed: 1_000, message: 'pending, superseded' });
    await progress.finish({ ...job, completed: 1_000, status: JobStatus.SUCCEEDED });
    clock.advance(1_000);
    await progress.flush();
    expect(written.at(-1)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 1_000 });
    expect(written.some((value) => value.message === 'pending, superseded')).toBe(false);
  });

  it('never loses the last change before a pause', async () => {
    const clock = manualClock();
    const { written, store } = recordingStore();
    const progress = createThrottledProgress({ store, logger, intervalMs: 100, now: clock.now, schedule: clock.schedule });
    const job = snapshot();
    progress.update({ ...job, completed: 1 });
    progress.update({ ...job, completed: 2 });
    progress.update({ ...job, completed: 3 });
    clock.advance(100);
    await progress.flush();
    expect(written.map((value) => value.completed)).toEqual([1, 3]);
  });

  it('logs a failed write instead of failing the work it reports on', async () => {
    const failing = { write: async () => Promise.reject(new Error('Redis is down')), read: async () => null };
    const progress = createThrottledProgress({ store: failing, logger, intervalMs: 0 });
    progress.update(snapshot());
    await expect(progress.finish(snapshot({ status: JobStatus.FAILED }))).resolves.toBeUndefined();
  });
});

describe('the progress feed', () => {
  const feeds: Array<{ feed: JobProgressFeed; client: Redis }> = [];
  /** A feed as a gateway process has it; its connections carry `name`, so a test can find them. */
  const feed = async (name = `test-feed-${randomUUID()}`) => {
    const client = redis.duplicate({ connectionName: name });
    await client.connect();
    const created = createJobProgressFeed({ redis: client, logger });
    feeds.push({ feed: created, client });
    return created;
  };

  afterAll(async () => {
    for (const { feed: created, client } of feeds) {
      await created.close();
      client.disconnect();
    }
  });

  it('hands every change to each follower, in every process, until each stops following', async () => {
    const store = createJobProgressStore({ redis });
    const job = snapshot();
    const [first, second] = [await feed(), await feed()];
    const heardByFirst = collector();
    const heardBySecond = collector();
    const stopFirst = await first.follow(job.jobId, heardByFirst.push);
    const stopSecond = await second.follow(job.jobId, heardBySecond.push);
    await store.write(job);
    await store.write({ ...job, completed: 3 });
    await heardByFirst.until((events) => events.length === 2);
    await heardBySecond.until((events) => events.length === 2);
    expect(heardBySecond.events.map((event) => event.snapshot.completed)).toEqual([0, 3]);

    await stopFirst();
    expect(first.followedJobs).toBe(0);
    await store.write({ ...job, status: JobStatus.SUCCEEDED, completed: 10 });
    await heardBySecond.until((events) => events.length === 3);
    expect(heardByFirst.events).toHaveLength(2);
    await stopSecond();
    expect(await second.read(job.jobId)).toMatchObject({ sequence: 3, snapshot: { status: JobStatus.SUCCEEDED } });
  });

  it('shares one channel subscription between followers of a job, and unsubscribes after the last', async () => {
    const shared = await feed();
    const job = snapshot();
    const stops = await Promise.all([shared.follow(job.jobId, () => {}), shared.follow(job.jobId, () => {})]);
    const channel = `${prefix}job-progress:${job.jobId}`;
    expect(await listener.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    await stops[0]!();
    expect(await listener.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    await stops[1]!();
    expect(await listener.pubsub('NUMSUB', channel)).toEqual([channel, 0]);
  });

  it('re-reads the snapshots of followed jobs after its Redis connection comes back, so a missed end still arrives', async () => {
    const store = createJobProgressStore({ redis });
    const name = `test-feed-${randomUUID()}`;
    const resilient = await feed(name);
    const job = snapshot();
    await store.write(job);
    const heard = collector();
    await resilient.follow(job.jobId, heard.push);
    const channel = `${prefix}job-progress:${job.jobId}`;
    const clients = String(await listener.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const subscriberAddress = clients
      .split('\n')
      .filter((line) => line.includes(`name=${name} `) && line.includes(' sub=1 '))
      .map((line) => /addr=(\S+)/.exec(line)?.[1])
      .filter(Boolean);
    expect(subscriberAddress.length).toBeGreaterThan(0);
    // Drop the subscriber connection, and meanwhile finish the job without a message on the
    // channel, as if it had been published while the connection was down.
    for (const address of subscriberAddress) await listener.client('KILL', 'ADDR', address!).catch(() => undefined);
    await listener.hset(channel, 'sequence', 2, 'stage', 2, 'processed', 10, 'snapshot', JSON.stringify({ ...job, status: JobStatus.SUCCEEDED, completed: 10 }));
    await heard.until((events) => events.some((event) => event.snapshot.status === JobStatus.SUCCEEDED));
    expect(heard.events.at(-1)).toMatchObject({ sequence: 2, snapshot: { status: JobStatus.SUCCEEDED, completed: 10 } });
  });
});
