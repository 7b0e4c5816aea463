// How deliveries get their jobs, against graphile-worker's own add_jobs on a real database: a
// shard's job that a worker locks while a relay schedules the shard must not swallow the wake-up.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@gtm/runtime';
import { createTestDatabase, type TestDatabase } from '@gtm/testing';
import { migrateWorkerSchema, quotedWorkerSchema, sharedWorkerSchema } from '@gtm/jobs';
import pg from 'pg';
import { jobKeyOf, scheduleShards, type SqlRunner } from './delivery-jobs.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const workerSchema = quotedWorkerSchema(sharedWorkerSchema);
let testDatabase: TestDatabase;
let worker: pg.Client;
let relay: pg.Client;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  await migrateWorkerSchema({ databaseUrl: testDatabase.url, logger });
  worker = new pg.Client({ connectionString: testDatabase.url });
  relay = new pg.Client({ connectionString: testDatabase.url });
  await Promise.all([worker.connect(), relay.connect()]);
});

afterAll(async () => {
  await worker?.end();
  await relay?.end();
  await testDatabase?.drop();
});

const onRelay: SqlRunner = async (text, values) => (await relay.query(text, values)).rows;

interface JobRow {
  id: string;
  locked_at: Date | null;
}

const jobsWithKey = async (key: string) => (await worker.query<JobRow>(`select id, locked_at from ${workerSchema}._private_jobs where key = $1 order by id`, [key])).rows;

/** Resolves once the backend `pid` waits for a lock another transaction holds. */
async function waitingForLock(pid: number): Promise<void> {
  for (;;) {
    const { rows } = await worker.query<{ waiting: boolean }>(`select coalesce(bool_or(wait_event_type = 'Lock'), false) as waiting from pg_stat_activity where pid = $1`, [pid]);
    if (rows[0]?.waiting) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('scheduleShards', () => {
  it('gives a shard a job that will run when a worker locks its job while add_jobs is under way', async () => {
    const shard = { subscriber: 'gate', shard: 3 };
    const key = jobKeyOf(shard);
    await scheduleShards(onRelay, workerSchema, [shard]);
    const [existing] = await jobsWithKey(key);
    expect(existing?.locked_at).toBeNull();

    // A worker locks that job in a transaction not yet committed, as graphile-worker's fetch does.
    // add_jobs' first statement still sees the job free (so leaves its key), its upsert then waits
    // for the fetch and finds the job locked: the moment the race needs, held open on purpose.
    await worker.query('begin');
    await worker.query(`update ${workerSchema}._private_jobs set locked_at = now(), locked_by = 'pool-gate' where id = $1`, [existing!.id]);
    const { rows } = await relay.query<{ pid: number }>('select pg_backend_pid() as pid');
    const scheduling = scheduleShards(onRelay, workerSchema, [shard]);
    await waitingForLock(rows[0]!.pid);
    await worker.query('commit');
    await scheduling;

    // The locked job may have looked at the shard before the relay's deliveries committed; a job
    // that has not started yet must be there for them.
    const jobs = await jobsWithKey(key);
    expect(jobs.filter((job) => job.locked_at === null)).toHaveLength(1);
    // The locked one no longer holds the key: it is not retried, its successor is.
    const locked = await worker.query<{ key: string | null }>(`select key from ${workerSchema}._private_jobs where id = $1`, [existing!.id]);
    expect(locked.rows[0]?.key).toBeNull();
  });

  it('schedules each shard once however often it is named', async () => {
    const shards = [
      { subscriber: 'twice', shard: 1 },
      { subscriber: 'twice', shard: 1 },
      { subscriber: 'twice', shard: 2 },
    ];
    await scheduleShards(onRelay, workerSchema, shards);
    expect(await jobsWithKey(jobKeyOf(shards[0]!))).toHaveLength(1);
    expect(await jobsWithKey(jobKeyOf(shards[2]!))).toHaveLength(1);
  });
});
