// Job progress across a Redis outage, with a real redis-server this test starts, kills and starts
// again (empty, as a restarted in-memory Redis is): the job rows in PostgreSQL are the truth, and
// what Redis lost is put back from them and heard by whoever follows the job.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, createLogger, createRedis, type Database, type Redis } from '@gtm/runtime';
import { createTestDatabase, startRedisServer, uniqueRedisPrefix, type RedisServerUnderTest, type TestDatabase } from '@gtm/testing';
import { Job, jobEntities, JobStatus } from './job.entity.js';
import { createJobProgressFeed, type JobProgressFeed } from './job-progress-feed.js';
import { startJobProgressRestorer, type JobProgressRestorer } from './job-progress-restorer.js';
import { createJobProgressStore, type JobProgressEvent, type JobProgressStore } from './job-progress.js';
import { countingMigrations, countingSchema } from './testing/counting-job.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let database: Database;
let redisServer: RedisServerUnderTest;
let serviceRedis: Redis;
let gatewayRedis: Redis;
let store: JobProgressStore;
let feed: JobProgressFeed;
let restorer: JobProgressRestorer;

beforeAll(async () => {
  [testDatabase, redisServer] = await Promise.all([createTestDatabase(), startRedisServer()]);
  database = await createDatabase({ url: testDatabase.url, schema: countingSchema, entities: jobEntities, migrations: countingMigrations, logger, poolMax: 2 });
  await database.migrate();
  const keyPrefix = uniqueRedisPrefix();
  // The service's connection (it writes and restores) and the gateway's (it reads and listens).
  serviceRedis = createRedis({ url: redisServer.url, keyPrefix });
  gatewayRedis = createRedis({ url: redisServer.url, keyPrefix });
  await Promise.all([serviceRedis.connect(), gatewayRedis.connect()]);
  store = createJobProgressStore({ redis: gatewayRedis });
  feed = createJobProgressFeed({ redis: gatewayRedis, logger });
});

afterAll(async () => {
  restorer?.stop();
  await feed?.close();
  serviceRedis?.disconnect();
  gatewayRedis?.disconnect();
  await database?.close();
  await redisServer?.close();
  await testDatabase?.drop();
});

async function insertJob(fields: { status: JobStatus; completed?: number; finishedAt?: Date | null }): Promise<Job> {
  const tenantId = randomUUID();
  const em = database.forkForTenant(tenantId);
  const job = em.create(Job, { tenantId, kind: 'counting', total: 10, status: fields.status, completed: fields.completed ?? 0, finishedAt: fields.finishedAt ?? null });
  await em.persist(job).flush();
  return job;
}

async function until<Value>(read: () => Promise<Value>, done: (value: Value) => boolean): Promise<Value> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ready = (redis: Redis) => new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));

describe('job progress across a Redis outage', () => {
  it('is rebuilt from the job rows where Redis has none, and followers hear it after Redis came back empty', async () => {
    const succeeded = await insertJob({ status: JobStatus.SUCCEEDED, completed: 10, finishedAt: new Date(Date.now() - 3_600_000) });
    const running = await insertJob({ status: JobStatus.RUNNING, completed: 5 });
    const longFinished = await insertJob({ status: JobStatus.FAILED, finishedAt: new Date(Date.now() - 3 * 86_400_000) });
    const ahead = await insertJob({ status: JobStatus.RUNNING, completed: 5 });
    // Redis knows more than the row (the worker publishes before its next commit): left alone.
    await store.write({ jobId: ahead.id, tenantId: ahead.tenantId, kind: 'counting', status: JobStatus.RUNNING, total: 10, completed: 7, failed: 0, message: null, updatedAt: new Date().toISOString(), subject: null });

    restorer = startJobProgressRestorer({ database, redis: serviceRedis, logger });
    await until(() => store.read(running.id), (event) => event !== null);
    expect((await store.read(succeeded.id))?.snapshot).toMatchObject({ jobId: succeeded.id, tenantId: succeeded.tenantId, status: JobStatus.SUCCEEDED, completed: 10 });
    expect((await store.read(running.id))?.snapshot).toMatchObject({ status: JobStatus.RUNNING, completed: 5 });
    expect(await store.read(longFinished.id)).toBeNull();
    expect((await store.read(ahead.id))?.snapshot.completed).toBe(7);

    // A follower of the running job, as the gateway's subscription is.
    const heard: JobProgressEvent[] = [];
    const states: string[] = [];
    const stopFollowing = await feed.follow(running.id, (event) => heard.push(event));
    const stopWatching = feed.onConnectionChange((state) => states.push(state));

    await redisServer.stop();
    await until(async () => states, (seen) => seen.includes('lost'));
    await expect(store.read(running.id)).rejects.toThrow();
    // Meanwhile the job finishes; its worker could not publish that (Redis was away).
    await database.orm.em.fork().nativeUpdate(Job, { id: running.id }, { status: JobStatus.SUCCEEDED, completed: 10, finishedAt: new Date() }, { filters: false });

    await redisServer.start();
    await Promise.all([ready(serviceRedis), ready(gatewayRedis)]);
    await until(async () => heard, (events) => events.some((event) => event.snapshot.status === JobStatus.SUCCEEDED));
    expect(states).toEqual(['lost', 'restored']);
    expect(heard.find((event) => event.snapshot.status === JobStatus.SUCCEEDED)).toMatchObject({ sequence: 1, snapshot: { jobId: running.id, completed: 10 } });
    // The finished job's progress is back, from its row: not null forever.
    expect((await until(() => store.read(succeeded.id), (event) => event !== null))?.snapshot).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 10 });
    stopWatching();
    await stopFollowing();
  });
});
