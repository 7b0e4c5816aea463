// A running consumer notices an entity's events that wait with no job to take them — the state a
// lost wake-up or a job held in graphile-worker's backoff leaves — says so at warn, and takes them.
// The minute's sweep is pushed out of the test's reach, so only that watch can deliver them.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, type Database } from '@gtm/runtime';
import { createTestDatabase, type TestDatabase } from '@gtm/testing';
import { quotedWorkerSchema, sharedWorkerSchema } from '@gtm/jobs';
import { deliveryTaskOf, shardOfStreamSql } from './delivery-jobs.js';
import { startEventConsumer, type EventConsumer } from './event-consumer.js';
import { sharedEventSchema } from './event-schema.js';
import { consumerSchema, noteChanged, noteSubscription, openConsumerDatabase } from './testing/event-test-services.js';

const workerSchema = quotedWorkerSchema(sharedWorkerSchema);
const logLines: Array<{ msg: string; shards?: Array<{ shard: number; job: string }> }> = [];
const logger = createLogger({
  service: 'test',
  level: 'warn',
  destination: new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(String(chunk)) as (typeof logLines)[number]);
      done();
    },
  }),
});
let testDatabase: TestDatabase;
let consumerDatabase: Database;
let consumer: EventConsumer;
const tenantId = randomUUID();

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  consumerDatabase = await openConsumerDatabase(testDatabase.url, logger);
  consumer = await startEventConsumer({
    database: consumerDatabase,
    databaseUrl: testDatabase.url,
    logger,
    subscriptions: [noteSubscription()],
    pollIntervalMs: 100,
    sweepIntervalMs: 3_600_000,
    stallAfterMs: 200,
    stallCheckIntervalMs: 100,
  });
});

afterAll(async () => {
  await consumer?.close();
  await consumerDatabase?.close();
  await testDatabase?.drop();
});

const execute = <Row>(sql: string, values: unknown[] = []) => consumerDatabase.orm.em.fork().execute<Row[]>(sql, values);

async function shardOf(entityId: string): Promise<number> {
  const [row] = await execute<{ shard: number }>(`select ${shardOfStreamSql(`'Note:' || ?::text`)} as shard`, [entityId]);
  return Number(row!.shard);
}

/** A delivery as the relay writes it, but without the job the relay adds in the same transaction. */
const insertDeliverySql = `insert into ${sharedEventSchema}.delivery
    (subscriber, stream, shard, event_id, event_name, event_version, tenant_id, entity_type, entity_id, occurred_at, request_id, publisher, data)
  values (?, 'Note:' || ?::text, ${shardOfStreamSql(`'Note:' || ?::text`)}, ?, ?, ?, ?, 'Note', ?, now(), 'stalled', 'events_publisher', ?::jsonb)`;

const deliveryValues = (entityId: string, sequence: number) => [
  consumer.subscriber,
  entityId,
  entityId,
  randomUUID(),
  noteChanged.name,
  noteChanged.version,
  tenantId,
  entityId,
  JSON.stringify({ sequence, text: `version ${sequence}` }),
];

async function sequencesSeen(entityId: string): Promise<number[]> {
  const rows = await execute<{ sequence: number }>(`select sequence from ${consumerSchema}.seen_event where entity_id = ? order by seen_order`, [entityId]);
  return rows.map((row) => row.sequence);
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const stallReports = () => logLines.filter((line) => line.msg.includes('no job to take them'));

describe('a consumer whose shard has events waiting and no job', () => {
  it('warns and delivers them, in order, when the wake-up was lost', async () => {
    const entityId = randomUUID();
    await execute(insertDeliverySql, deliveryValues(entityId, 1));
    await execute(insertDeliverySql, deliveryValues(entityId, 2));
    await eventually(async () => (await sequencesSeen(entityId)).length === 2, 'the stranded events are handled');
    expect(await sequencesSeen(entityId)).toEqual([1, 2]);
    const shard = await shardOf(entityId);
    expect(stallReports().some((line) => line.shards?.some((reported) => reported.shard === shard && reported.job === 'none'))).toBe(true);
  });

  it('warns and delivers them when the shard’s only job waits in graphile-worker’s backoff', async () => {
    // A shard no job of the first test may still be running for (it would take the event itself).
    let entityId = randomUUID();
    while ((await execute(`select 1 from ${workerSchema}._private_jobs where (payload->>'shard')::integer = ?`, [await shardOf(entityId)])).length > 0) entityId = randomUUID();
    const shard = await shardOf(entityId);
    await consumerDatabase.orm.em.fork().transactional(async (transaction) => {
      // A job that failed and that graphile-worker will run again only in an hour.
      await transaction.execute(
        `select ${workerSchema}.add_job(?, json_build_object('shard', ?::integer), run_at => now() + interval '1 hour', job_key => ?)`,
        [deliveryTaskOf(consumer.subscriber), shard, `${deliveryTaskOf(consumer.subscriber)}:${shard}`],
      );
      await transaction.execute(`update ${workerSchema}._private_jobs set attempts = 3, last_error = 'the database went away' where key = ?`, [
        `${deliveryTaskOf(consumer.subscriber)}:${shard}`,
      ]);
      await transaction.execute(insertDeliverySql, deliveryValues(entityId, 1));
    });
    await eventually(async () => (await sequencesSeen(entityId)).length === 1, 'the held-back event is handled');
    expect(stallReports().some((line) => line.shards?.some((reported) => reported.shard === shard && reported.job === 'held'))).toBe(true);
  });
});
