import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@gtm/runtime';
import { createTestDatabase, testEnvironment, uniqueRedisPrefix, type TestDatabase } from '@gtm/testing';
import type { JobKind } from './job-kind.js';
import { Job, JobStatus } from './job.entity.js';
import { countingSchema, createCountingKind } from './testing/counting-job.js';
import { createWorkerHarness, gate, pauseAt } from './testing/worker-harness.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
const harness = createWorkerHarness();
const { queueFor, startWorker, submit, follow, jobRow, itemRows, queuedTasks, tasksLeftOnceCompleted } = harness;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  await harness.open({ databaseUrl: testDatabase.url, redisUrl: testEnvironment.redisUrl, redisKeyPrefix: uniqueRedisPrefix(), logger });
});

afterEach(() => harness.closeWorkers());

afterAll(async () => {
  await harness.close();
  await testDatabase?.drop();
});

describe('running jobs', () => {
  it('runs a submitted job to SUCCEEDED, each item once, with its progress published from QUEUED to the end', async () => {
    const kind = createCountingKind({ failedItems: new Set([3, 7]) });
    const job = await submit(kind, 40);
    expect(job.status).toBe(JobStatus.QUEUED);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    const row = await jobRow(job);
    expect(row).toMatchObject({ status: JobStatus.SUCCEEDED, total: 40, completed: 38, failed: 2 });
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(await itemRows(job.id)).toMatchObject({ rows: 40, distinct: 40 });
    expect(await tasksLeftOnceCompleted(job.id)).toBe(0);

    const snapshots = progress.events.map((event) => event.snapshot);
    expect(snapshots[0]).toMatchObject({ jobId: job.id, tenantId: job.tenantId, kind: 'counting', status: JobStatus.QUEUED, completed: 0 });
    expect(snapshots.at(-1)).toMatchObject({ status: JobStatus.SUCCEEDED, total: 40, completed: 38, failed: 2 });
    const processed = snapshots.map((snapshot) => snapshot.completed + snapshot.failed);
    expect(processed).toEqual(processed.toSorted((left, right) => left - right));
    expect(snapshots.some((snapshot) => snapshot.status === JobStatus.RUNNING)).toBe(true);
    expect(Object.keys(snapshots.at(-1)!)).not.toContain('error');
  });

  it('enqueues in the transaction of the domain write: a submission that fails leaves neither a job row nor a task', async () => {
    const tenantId = randomUUID();
    const jobId = randomUUID();
    const attempt = queueFor(createCountingKind()).submit(harness.database.forkForTenant(tenantId), async (transaction) => {
      const job = transaction.create(Job, { id: jobId, tenantId, kind: 'counting', total: 3 });
      transaction.persist(job);
      await transaction.flush();
      // A domain write after the job that breaks a constraint: the whole submission rolls back.
      await transaction.execute(`insert into ${countingSchema}.processed_item (job_id, item, pid) values (?, null, 0)`, [jobId]);
      return job;
    });
    await expect(attempt).rejects.toThrow(/null value/);
    expect(await harness.database.forkForTenant(tenantId).count(Job, { id: jobId })).toBe(0);
    expect(await queuedTasks(jobId)).toBe(0);
  });

  it('retries a failed attempt with backoff and resumes where it stopped, without redoing an item', async () => {
    let failures = 0;
    const kind = createCountingKind({
      maxAttempts: 3,
      beforeItem: (item) => {
        if (item === 5 && failures === 0) {
          failures += 1;
          throw new Error('the enrichment source timed out');
        }
      },
    });
    const job = await submit(kind, 12);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    expect(failures).toBe(1);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 12, failed: 0, message: null });
    expect(await itemRows(job.id)).toEqual({ rows: 12, distinct: 12, items: Array.from({ length: 12 }, (_, index) => index) });
    const retrying = progress.events.find((event) => event.snapshot.message?.includes('retrying'));
    expect(retrying?.snapshot).toMatchObject({ status: JobStatus.RUNNING, completed: 5 });
  });

  it('marks a job FAILED after its last attempt, keeps what was processed, and keeps the cause from listeners', async () => {
    const kind = createCountingKind({
      maxAttempts: 1,
      beforeItem: (item) => {
        if (item === 2) throw new Error('upstream said 500: internal detail');
      },
    });
    const job = await submit(kind, 6);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    const row = await jobRow(job);
    expect(row).toMatchObject({ status: JobStatus.FAILED, completed: 2, message: 'Failed after 1 attempt; items already processed are kept.' });
    expect(row.error).toContain('upstream said 500: internal detail');
    expect(await itemRows(job.id)).toMatchObject({ rows: 2, distinct: 2 });
    expect(progress.events.at(-1)?.snapshot).toMatchObject({ status: JobStatus.FAILED, completed: 2 });
    expect(JSON.stringify(progress.events)).not.toContain('internal detail');
  });
});
describe('what a job says', () => {
  it('shows each item while it runs and what it did, gives the kind its attempt, and ends as the kind concludes', async () => {
    const attempts: Array<[number, number]> = [];
    const counting = createCountingKind({ failedItems: new Set([2]) });
    const kind: JobKind<number> = {
      ...counting,
      describeItem: (item, { job }) => `Item ${item + 1} of ${job.total}.`,
      async processItem(item, context) {
        attempts.push([context.attempt, context.maxAttempts]);
        return { ...(await counting.processItem(item, context)), message: `Did item ${item + 1}.` };
      },
      async conclude({ job, em }) {
        const row = await em.fork().findOneOrFail(Job, { id: job.id });
        return row.failed > 0 ? { status: JobStatus.FAILED, message: `${row.failed} of ${row.total} items failed.` } : {};
      },
    };
    const job = await submit(kind, 3);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    expect(await jobRow(job)).toMatchObject({ status: JobStatus.FAILED, completed: 2, failed: 1, message: '1 of 3 items failed.' });
    expect(attempts).toEqual([
      [1, 5],
      [1, 5],
      [1, 5],
    ]);
    const messages = progress.events.map((event) => event.snapshot.message);
    // Throttled: a message may be superseded before it is published, but never out of order.
    const said = ['Item 1 of 3.', 'Did item 1.', 'Item 2 of 3.', 'Did item 2.', 'Item 3 of 3.', 'Did item 3.', '1 of 3 items failed.'];
    expect(messages.filter((message): message is string => message !== null).every((message, index, shown) => index === 0 || said.indexOf(message) > said.indexOf(shown[index - 1]!))).toBe(true);
    expect(progress.events.at(-1)?.snapshot).toMatchObject({ status: JobStatus.FAILED, completed: 2, failed: 1, message: '1 of 3 items failed.' });
  });
});
describe('an attempt\'s state', () => {
  it('is made once per attempt, handed to every item and to the conclusion, and made afresh for a retry', async () => {
    const counting = createCountingKind();
    let attemptsStarted = 0;
    let failedOnce = false;
    const kind: JobKind<number, Job, { attempt: number; processed: number[] }> = {
      kind: counting.kind,
      items: ({ job }) => Array.from({ length: job.total }, (_, index) => index),
      itemKey: counting.itemKey,
      maxAttempts: 3,
      async startAttempt({ attempt }) {
        attemptsStarted += 1;
        return { attempt, processed: [] };
      },
      async processItem(item, context) {
        if (item === 2 && !failedOnce) {
          failedOnce = true;
          throw new Error('a source timed out');
        }
        context.state.processed.push(item);
        return counting.processItem(item, { ...context, state: undefined });
      },
      async conclude({ state }) {
        return { message: `Attempt ${state.attempt} processed ${state.processed.join(', ')}.` };
      },
    };
    const job = await submit(kind, 4);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;
    expect(attemptsStarted).toBe(2);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 4, message: 'Attempt 2 processed 2, 3.' });
  });
});

describe('cancellation', () => {
  it('stops a running job between items: CANCELLED, nothing counted after it', async () => {
    const pause = pauseAt(3);
    const kind = createCountingKind({ beforeItem: pause.beforeItem });
    const job = await submit(kind, 10);
    const progress = await follow(job.id);
    await startWorker(kind);
    await pause.reached;

    const queue = queueFor(kind);
    const result = await queue.cancel(harness.database.forkForTenant(job.tenantId), Job, job.id);
    expect(result).toMatchObject({ cancelled: true, job: { status: JobStatus.CANCELLED } });
    pause.resume();
    await progress.finished;

    expect(await jobRow(job)).toMatchObject({ status: JobStatus.CANCELLED, completed: 3 });
    // Item 3 was in flight when the job was cancelled: its writes rolled back with its count.
    expect(await itemRows(job.id)).toEqual({ rows: 3, distinct: 3, items: [0, 1, 2] });
    expect(progress.events.at(-1)?.snapshot).toMatchObject({ status: JobStatus.CANCELLED, completed: 3 });
    expect(await queue.cancel(harness.database.forkForTenant(job.tenantId), Job, job.id)).toMatchObject({ cancelled: false });
    expect(await queue.cancel(harness.database.forkForTenant(randomUUID()), Job, job.id)).toBeNull();
  });

  it('takes a job that has not started off the queue', async () => {
    const kind = createCountingKind();
    const job = await submit(kind, 3);
    expect(await queuedTasks(job.id)).toBe(1);
    await queueFor(kind).cancel(harness.database.forkForTenant(job.tenantId), Job, job.id);
    expect(await queuedTasks(job.id)).toBe(0);
    expect((await harness.feed.read(job.id))?.snapshot).toMatchObject({ status: JobStatus.CANCELLED, completed: 0 });
  });
});
describe('concurrency', () => {
  it('runs the jobs of one queue one at a time, even on a worker with room for more', async () => {
    const order: string[] = [];
    const kind = createCountingKind({
      queueOf: () => 'one-at-a-time',
      beforeItem: async (item, jobId) => {
        order.push(jobId);
        // Gives any other job the chance to run in between, if the queue let it.
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    const jobs = [await submit(kind, 4), await submit(kind, 4), await submit(kind, 4)];
    const finished = await Promise.all(jobs.map((job) => follow(job.id)));
    await startWorker(kind, 4);
    await Promise.all(finished.map((progress) => progress.finished));
    // Each job's items ran back to back: the order holds three runs of four.
    const runs = order.filter((jobId, index) => index === 0 || order[index - 1] !== jobId);
    expect(runs).toHaveLength(3);
    expect(new Set(runs).size).toBe(3);
  });

  it('runs jobs without a queue side by side, up to the worker’s concurrency', async () => {
    const started = new Set<string>();
    const bothStarted = gate();
    const kind = createCountingKind({
      beforeItem: async (_item, jobId) => {
        started.add(jobId);
        if (started.size === 2) bothStarted.open();
        // Neither job gets past its first item until the other one has started.
        await bothStarted.opened;
      },
    });
    const jobs = [await submit(kind, 2), await submit(kind, 2)];
    const finished = await Promise.all(jobs.map((job) => follow(job.id)));
    await startWorker(kind, 2);
    await Promise.all(finished.map((progress) => progress.finished));
    expect(started.size).toBe(2);
  });
});

describe('items processed side by side within one job', () => {
  it('keeps up to `concurrency` items in flight and commits each one once', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const fiveInFlight = gate();
    const kind = createCountingKind({
      concurrency: 5,
      failedItems: new Set([4]),
      beforeItem: async (item) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        if (inFlight === 5) fiveInFlight.open();
        // The first five wait for each other: they can only all pass if they run at once.
        if (item < 5) await fiveInFlight.opened;
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
      },
    });
    const job = await submit(kind, 30);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    expect(mostInFlight).toBe(5);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 29, failed: 1 });
    expect(await itemRows(job.id)).toEqual({ rows: 30, distinct: 30, items: Array.from({ length: 30 }, (_, index) => index) });
    const processed = progress.events.map((event) => event.snapshot.completed + event.snapshot.failed);
    expect(processed).toEqual(processed.toSorted((left, right) => left - right));
  });

  it('commits the items processed while a commit runs together, in one transaction, each once', async () => {
    const allStarted = gate();
    let started = 0;
    const kind = createCountingKind({
      concurrency: 10,
      failedItems: new Set([2]),
      beforeItem: async () => {
        started += 1;
        if (started === 10) allStarted.open();
        // All ten finish together, so at most the first commits alone and the rest wait for the next group.
        await allStarted.opened;
      },
    });
    const job = await submit(kind, 10);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 9, failed: 1 });
    expect(await itemRows(job.id)).toEqual({ rows: 10, distinct: 10, items: Array.from({ length: 10 }, (_, index) => index) });
    // A group's items are recorded by one transaction, at one moment.
    const moments = await harness.database.orm.em.getConnection().execute<Array<{ moments: number }>>(`select count(distinct processed_at)::int as moments from ${countingSchema}.job_item where job_id = ?`, [job.id]);
    expect(moments[0]!.moments).toBeLessThanOrEqual(2);
  });

  it('lets the other items commit when one throws, then retries only what is left', async () => {
    let thrown = 0;
    const kind = createCountingKind({
      concurrency: 4,
      maxAttempts: 3,
      beforeItem: async (item) => {
        if (item === 6 && thrown === 0) {
          thrown += 1;
          throw new Error('the search provider timed out');
        }
      },
    });
    const job = await submit(kind, 20);
    const progress = await follow(job.id);
    await startWorker(kind);
    await progress.finished;

    expect(thrown).toBe(1);
    expect(await jobRow(job)).toMatchObject({ status: JobStatus.SUCCEEDED, completed: 20 });
    expect(await itemRows(job.id)).toEqual({ rows: 20, distinct: 20, items: Array.from({ length: 20 }, (_, index) => index) });
  });

  it('stops when the job is cancelled: what was in flight rolls back, nothing is counted after it', async () => {
    const pause = pauseAt(7);
    const kind = createCountingKind({ concurrency: 3, beforeItem: pause.beforeItem });
    const job = await submit(kind, 40);
    const progress = await follow(job.id);
    await startWorker(kind);
    await pause.reached;
    await queueFor(kind).cancel(harness.database.forkForTenant(job.tenantId), Job, job.id);
    pause.resume();
    await progress.finished;

    const row = await jobRow(job);
    expect(row.status).toBe(JobStatus.CANCELLED);
    const items = await itemRows(job.id);
    expect(items.rows).toBe(row.completed);
    expect(items.items).not.toContain(7);
    expect(row.completed).toBeLessThan(40);
  });
});

