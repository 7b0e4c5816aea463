// A worker process killed outright in the middle of a job: its replacement resumes the job, and
// every item is processed exactly once. The workers are real processes, started from the sources
// and killed with SIGKILL (no shutdown code runs); items are counted as rows in PostgreSQL.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createDatabase, createLogger, createRedis, type Database, type Redis } from '@gtm/runtime';
import { createTestDatabase, spawnTypeScript, testEnvironment, uniqueRedisPrefix, type TestDatabase } from '@gtm/testing';
import { Job, jobEntities, JobStatus } from './job.entity.js';
import { createJobProgressFeed, type JobProgressFeed } from './job-progress-feed.js';
import type { JobProgressEvent } from './job-progress.js';
import { createJobQueue } from './job-queue.js';
import { countingMigrations, countingSchema, countingWorkerSchema, createCountingKind } from './testing/counting-job.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const redisKeyPrefix = uniqueRedisPrefix();
let testDatabase: TestDatabase;
let database: Database;
let redis: Redis;
let feed: JobProgressFeed;
const children: ChildProcess[] = [];

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = await createDatabase({ url: testDatabase.url, schema: countingSchema, entities: jobEntities, migrations: countingMigrations, logger, poolMax: 2 });
  await database.migrate();
  redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: redisKeyPrefix });
  await redis.connect();
  feed = createJobProgressFeed({ redis, logger });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await feed?.close();
  redis?.disconnect();
  await database?.close();
  await testDatabase?.drop();
});

/** Starts a worker process and resolves once it runs. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawnTypeScript(new URL('./testing/counting-worker.ts', import.meta.url), [], {
    env: { ...process.env, DATABASE_URL: testDatabase.url, REDIS_URL: testEnvironment.redisUrl, REDIS_KEY_PREFIX: redisKeyPrefix, ITEM_DELAY_MS: '5' },
  });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) before it was ready:\n${output}`)));
  });
  return child;
}

async function processedRows(jobId: string): Promise<{ rows: number; distinct: number; processes: number }> {
  const [row] = await database.orm.em
    .getConnection()
    .execute<Array<{ rows: string; distinct: string; processes: string }>>(
      `select count(*) as rows, count(distinct item) as distinct, count(distinct pid) as processes from ${countingSchema}.processed_item where job_id = ?`,
      [jobId],
    );
  return { rows: Number(row!.rows), distinct: Number(row!.distinct), processes: Number(row!.processes) };
}

/** Resolves once `check` holds, looking every 20 ms. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

it('resumes a job whose worker process was killed, without losing or doubling an item', async () => {
  const tenantId = randomUUID();
  const total = 300;
  const queue = createJobQueue({ databaseUrl: testDatabase.url, workerSchema: countingWorkerSchema, redis, logger, kinds: [createCountingKind()] });
  await queue.migrate();
  const job = await queue.submit(database.forkForTenant(tenantId), async (transaction) => {
    const created = transaction.create(Job, { tenantId, kind: 'counting', total });
    transaction.persist(created);
    return created;
  });
  let last: JobProgressEvent | null = null;
  let finished!: () => void;
  const terminal = new Promise<void>((resolve) => (finished = resolve));
  await feed.follow(job.id, (event) => {
    last = event;
    if (event.snapshot.status === JobStatus.SUCCEEDED) finished();
  });

  const doomed = await startWorkerProcess();
  await eventually(async () => (await processedRows(job.id)).rows >= 40);
  doomed.kill('SIGKILL');
  await once(doomed, 'exit');
  const atKill = await processedRows(job.id);
  expect(atKill.rows).toBeLessThan(total);
  expect((await database.forkForTenant(tenantId).findOneOrFail(Job, { id: job.id })).status).toBe(JobStatus.RUNNING);

  await startWorkerProcess();
  await terminal;

  const done = await database.forkForTenant(tenantId).findOneOrFail(Job, { id: job.id });
  expect(done).toMatchObject({ status: JobStatus.SUCCEEDED, completed: total, failed: 0 });
  expect(await processedRows(job.id)).toEqual({ rows: total, distinct: total, processes: 2 });
  const [recorded] = await database.orm.em.getConnection().execute<Array<{ count: string }>>(`select count(*) from ${countingSchema}.job_item where job_id = ?`, [job.id]);
  expect(Number(recorded!.count)).toBe(total);
  // The second process published the end through Redis, where this process heard it.
  expect(last).toMatchObject({ snapshot: { status: JobStatus.SUCCEEDED, completed: total } });
});
