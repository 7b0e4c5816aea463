// Domain events between two services of one database, for real: a publisher's outbox and relay,
// a consumer on graphile-worker, PostgreSQL underneath. What the consumer's handler saw is read
// back from its own table (`seen_event`, where a doubled effect shows as two rows).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, tenantFilterName, TenantScopeError, type Database } from '@gtm/runtime';
import { createTestDatabase, type TestDatabase } from '@gtm/testing';
import { sharedWorkerSchema } from '@gtm/jobs';
import { shardOfStreamSql } from './delivery-jobs.js';
import type { DomainEvent } from './event-definition.js';
import { startEventConsumer, UnhandleableEventError, type EventConsumer } from './event-consumer.js';
import { startEventRelay, type EventRelay } from './event-relay.js';
import { entitiesPerOutboxRow, publishEvent, publishEventForEntities, publishEvents } from './publish.js';
import { subscribe, type EventBatchHandlerContext, type EventHandlerContext } from './subscription.js';
import {
  consumerSchema,
  noteBatchSubscription,
  noteChanged,
  noteSubscription,
  openConsumerDatabase,
  openPublisherDatabase,
  publisherSchema,
  SeenEvent,
} from './testing/event-test-services.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let publisher: Database;
let consumerDatabase: Database;
let relay: EventRelay;
/** A second relay of the same outbox, as a second process of the publishing service would run. */
let secondRelay: EventRelay;
let consumer: EventConsumer;
const statements: string[] = [];

type NoteEvent = DomainEvent<{ sequence: number; text: string }>;
/** What the handler does for an entity before it records the event; by entity id. */
const behaviours = new Map<string, (event: NoteEvent, context: EventHandlerContext) => Promise<void>>();

class Rollback extends Error {}

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  publisher = await openPublisherDatabase(testDatabase.url, logger, (sql) => statements.push(sql));
  consumerDatabase = await openConsumerDatabase(testDatabase.url, logger);
  relay = await startEventRelay({ database: publisher, databaseUrl: testDatabase.url, logger, pollIntervalMs: 200 });
  secondRelay = await startEventRelay({ database: publisher, databaseUrl: testDatabase.url, logger, pollIntervalMs: 200 });
  consumer = await startEventConsumer({
    database: consumerDatabase,
    databaseUrl: testDatabase.url,
    logger,
    subscriptions: [noteSubscription((event, context) => behaviours.get(event.entity.id)?.(event, context) ?? Promise.resolve())],
    concurrency: 4,
    maxAttempts: 3,
    retryDelayMs: () => 50,
    pollIntervalMs: 100,
  });
});

afterAll(async () => {
  await consumer?.close();
  await relay?.close();
  await secondRelay?.close();
  await consumerDatabase?.close();
  await publisher?.close();
  await testDatabase?.drop();
});

async function publishNote(tenantId: string, noteId: string, sequence: number, options: { requestId?: string; rollback?: boolean } = {}) {
  const em = publisher.forkForTenant(tenantId);
  let published: NoteEvent | undefined;
  try {
    await em.transactional(async (transaction) => {
      published = await publishEvent(transaction, noteChanged, { entityId: noteId, data: { sequence, text: `version ${sequence}` }, requestId: options.requestId ?? 'request-1' });
      if (options.rollback) throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return published!;
}

interface SeenRow {
  event_id: string;
  tenant_id: string;
  entity_id: string;
  sequence: number;
  request_id: string | null;
}

/** What the consumer committed for these entities, in the order it wrote it. */
async function seen(entityIds: string[]): Promise<SeenRow[]> {
  if (entityIds.length === 0) return [];
  return consumerDatabase.orm.em
    .fork()
    .execute<SeenRow[]>(`select event_id, tenant_id, entity_id, sequence, request_id from ${consumerSchema}.seen_event where entity_id in (?) order by seen_order`, [entityIds]);
}

const sequencesOf = async (entityId: string) => (await seen([entityId])).map((row) => row.sequence);

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Entity ids whose streams fall in one shard, so their deliveries are taken by the same job. */
async function idsInOneShard(howMany: number): Promise<string[]> {
  const candidates = Array.from({ length: 400 }, () => randomUUID());
  const rows = await publisher.orm.em
    .fork()
    .execute<Array<{ id: string; shard: number }>>(`select id, ${shardOfStreamSql(`'Note:' || id`)} as shard from jsonb_array_elements_text(?::jsonb) as candidate(id)`, [JSON.stringify(candidates)]);
  const byShard = new Map<number, string[]>();
  for (const row of rows) byShard.set(Number(row.shard), [...(byShard.get(Number(row.shard)) ?? []), row.id]);
  const [ids] = [...byShard.values()].filter((group) => group.length >= howMany);
  return ids!.slice(0, howMany);
}

async function count(sql: string, parameters: unknown[] = []): Promise<number> {
  const [row] = await publisher.orm.em.fork().execute<Array<{ count: string }>>(sql, parameters);
  return Number(row!.count);
}

describe('publishing', () => {
  it('delivers a committed event with its envelope, and nothing of a rolled-back one', async () => {
    const tenantId = randomUUID();
    const [rolledBack, committed] = [randomUUID(), randomUUID()];
    await publishNote(tenantId, rolledBack, 1, { rollback: true });
    const event = await publishNote(tenantId, committed, 1, { requestId: 'request-envelope' });
    expect(event).toMatchObject({ name: 'note.changed', version: 1, tenantId, entity: { type: 'Note', id: committed }, requestId: 'request-envelope', publisher: publisherSchema });
    expect(event.occurredAt).toBeInstanceOf(Date);

    await eventually(async () => (await seen([committed])).length === 1, 'the committed event is handled');
    expect(await seen([committed])).toEqual([{ event_id: event.id, tenant_id: tenantId, entity_id: committed, sequence: 1, request_id: 'request-envelope' }]);
    expect(await seen([rolledBack])).toEqual([]);
    expect(await count(`select count(*) from ${publisherSchema}.event_outbox where entity_id = ?`, [rolledBack])).toBe(0);
    expect(await count(`select count(*) from gtm_events.delivery where entity_id in (?)`, [[rolledBack, committed]])).toBe(0);
  });

  it('refuses to publish outside a transaction, without a tenant, or with data its schema refuses', async () => {
    const em = publisher.forkForTenant(randomUUID());
    const input = { entityId: randomUUID(), data: { sequence: 1, text: 'x' }, requestId: null };
    await expect(publishEvent(em, noteChanged, input)).rejects.toThrow(/outside a transaction/);
    await expect(publisher.orm.em.fork().transactional((transaction) => publishEvent(transaction, noteChanged, input))).rejects.toBeInstanceOf(TenantScopeError);
    await expect(em.transactional((transaction) => publishEvent(transaction, noteChanged, { ...input, data: { sequence: 0, text: 'x' } }))).rejects.toThrow(/sequence/);
    expect(await count(`select count(*) from ${publisherSchema}.event_outbox where entity_id = ?`, [input.entityId])).toBe(0);
  });

  it('publishes many events in one statement, in the order given', async () => {
    const tenantId = randomUUID();
    const notes = Array.from({ length: 100 }, () => randomUUID());
    const inputs = Array.from({ length: 1_000 }, (_, index) => ({
      entityId: notes[index % notes.length]!,
      data: { sequence: Math.floor(index / notes.length) + 1, text: `bulk ${index}` },
      requestId: 'request-bulk',
    }));
    statements.length = 0;
    const events = await publisher.forkForTenant(tenantId).transactional((transaction) => publishEvents(transaction, noteChanged, inputs));
    expect(events).toHaveLength(1_000);
    expect(statements.filter((sql) => /insert into "events_publisher"\.event_outbox/.test(sql))).toHaveLength(1);

    await eventually(async () => (await seen(notes)).length === 1_000, 'every bulk event is handled', 120_000);
    const rows = await seen(notes);
    for (const note of notes) {
      expect(rows.filter((row) => row.entity_id === note).map((row) => row.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
  });
});

describe('one event for many entities', () => {
  it('is written as one outbox row per thousand entities and delivered as one event per entity, in order with their later events', async () => {
    const tenantId = randomUUID();
    const notes = Array.from({ length: entitiesPerOutboxRow + 500 }, () => randomUUID());
    statements.length = 0;
    const published = await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
      const publishedCount = await publishEventForEntities(transaction, noteChanged, {
        select: `select value as entity_id from jsonb_array_elements_text(?::jsonb)`,
        values: [JSON.stringify(notes)],
        data: { sequence: 1, text: 'imported' },
        requestId: 'request-many',
      });
      // The same transaction sees its two rows (the relay sees them once it commits).
      const [rows] = await transaction.execute<Array<{ count: string }>>(`select count(*) from ${publisherSchema}.event_outbox where entity_ids is not null and tenant_id = ?`, [tenantId]);
      expect(Number(rows!.count)).toBe(2);
      return publishedCount;
    });
    expect(published).toBe(notes.length);
    expect(statements.filter((sql) => /insert into "events_publisher"\.event_outbox/.test(sql))).toHaveLength(1);
    await expect(publisher.forkForTenant(tenantId).transactional((transaction) => publishEventForEntities(transaction, noteChanged, { select: `select 'x' as entity_id`, values: [], data: { sequence: 0, text: 'x' }, requestId: null }))).rejects.toThrow(/sequence/);
    // Later events of some of the same entities come after theirs.
    const later = notes.slice(0, 3);
    for (const note of later) await publishNote(tenantId, note, 2);

    await eventually(async () => (await seen(notes)).length === notes.length + later.length, 'every event is handled', 120_000);
    const rows = await seen(notes);
    for (const note of notes) expect(rows.filter((row) => row.entity_id === note).map((row) => row.sequence)).toEqual(later.includes(note) ? [1, 2] : [1]);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(rows.length);
    expect(rows.filter((row) => row.sequence === 1).every((row) => row.tenant_id === tenantId && row.request_id === 'request-many')).toBe(true);
  });
});

describe('delivery', () => {
  it("keeps the order of each entity's events, also across retries", async () => {
    const tenantId = randomUUID();
    const notes = Array.from({ length: 5 }, () => randomUUID());
    const failedOnce = new Set<string>();
    for (const note of notes) {
      // Every third change fails its first attempt: the entity's next changes must wait for it.
      behaviours.set(note, async (event) => {
        const key = `${event.entity.id}:${event.data.sequence}`;
        if (event.data.sequence % 3 === 0 && !failedOnce.has(key)) {
          failedOnce.add(key);
          throw new Error('the first attempt fails');
        }
      });
    }
    for (let sequence = 1; sequence <= 12; sequence += 1) {
      for (const note of notes) await publishNote(tenantId, note, sequence);
    }
    await eventually(async () => (await seen(notes)).length === 60, 'every event is handled');
    for (const note of notes) expect(await sequencesOf(note)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(failedOnce.size).toBe(20);
  });

  it('handles an event delivered again only once', async () => {
    const tenantId = randomUUID();
    const note = randomUUID();
    const first = await publishNote(tenantId, note, 1);
    await eventually(async () => (await seen([note])).length === 1, 'the event is handled');
    // The same event delivered a second time (as at-least-once delivery may), then a later one.
    await consumerDatabase.orm.em.fork().execute(
      `insert into gtm_events.delivery (subscriber, stream, shard, event_id, event_name, event_version, tenant_id, entity_type, entity_id, occurred_at, request_id, publisher, data)
       values (?, ?, ${shardOfStreamSql('?')}, ?, 'note.changed', 1, ?, 'Note', ?, now(), null, ?, ?::jsonb)`,
      [consumerSchema, `Note:${note}`, `Note:${note}`, first.id, tenantId, note, publisherSchema, JSON.stringify({ sequence: 1, text: 'version 1' })],
    );
    await publishNote(tenantId, note, 2);
    await eventually(async () => (await seen([note])).length === 2, 'the later event is handled');
    expect(await sequencesOf(note)).toEqual([1, 2]);
    expect(await count(`select count(*) from gtm_events.delivery where stream = ?`, [`Note:${note}`])).toBe(0);
  });

  it("gives each handler an EntityManager scoped to the event's tenant", async () => {
    const [tenantA, tenantB] = [randomUUID(), randomUUID()];
    const [noteA, noteB] = [randomUUID(), randomUUID()];
    const observed: Array<{ tenantId: string; scope: string | undefined; visibleTenants: string[]; foreignWrite: string }> = [];
    const observe = async (event: NoteEvent, context: EventHandlerContext) => {
      const visible = await context.em.find(SeenEvent, {});
      const probe = context.em.fork();
      probe.persist(probe.create(SeenEvent, { tenantId: event.tenantId === tenantA ? tenantB : tenantA, eventId: event.id, entityId: 'foreign', sequence: 1, pid: 0 }));
      const foreignWrite = await probe.flush().then(
        () => 'written',
        (error: unknown) => (error instanceof TenantScopeError ? 'refused' : String(error)),
      );
      observed.push({
        tenantId: event.tenantId,
        scope: context.em.getFilterParams<{ tenantId?: string }>(tenantFilterName)?.tenantId,
        visibleTenants: [...new Set(visible.map((row) => row.tenantId))],
        foreignWrite,
      });
    };
    behaviours.set(noteA, observe);
    behaviours.set(noteB, observe);
    await publishNote(tenantA, noteA, 1);
    await eventually(async () => (await seen([noteA])).length === 1, "tenant A's event is handled");
    await publishNote(tenantB, noteB, 1);
    await eventually(async () => (await seen([noteB])).length === 1, "tenant B's event is handled");

    expect(observed).toEqual([
      { tenantId: tenantA, scope: tenantA, visibleTenants: [], foreignWrite: 'refused' },
      // B's handler does not see the row A's handler wrote.
      { tenantId: tenantB, scope: tenantB, visibleTenants: [], foreignWrite: 'refused' },
    ]);
    expect((await seen([noteA, noteB])).map((row) => [row.entity_id, row.tenant_id])).toEqual([
      [noteA, tenantA],
      [noteB, tenantB],
    ]);
    expect(await count(`select count(*) from ${consumerSchema}.seen_event where entity_id = 'foreign'`)).toBe(0);
  });
});

describe('dead letters', () => {
  it("parks an event that keeps failing, holds its entity's later events, goes on with the others, and replays it", async () => {
    const tenantId = randomUUID();
    const [broken, healthy] = [randomUUID(), randomUUID()];
    let failing = true;
    behaviours.set(broken, async (event) => {
      if (failing && event.data.sequence === 2) throw new Error('the CRM refused the change');
    });
    for (const sequence of [1, 2, 3]) await publishNote(tenantId, broken, sequence);
    for (const sequence of [1, 2, 3]) await publishNote(tenantId, healthy, sequence);

    await eventually(async () => (await consumer.deadLetters.count({ tenantId })) === 1, 'the failing event is parked');
    await eventually(async () => (await sequencesOf(healthy)).length === 3, "the other entity's events are handled");
    expect(await sequencesOf(broken)).toEqual([1]);
    const [deadLetter] = await consumer.deadLetters.list({ tenantId });
    expect(deadLetter).toMatchObject({
      subscriber: consumerSchema,
      event: { name: 'note.changed', version: 1, tenantId, entity: { type: 'Note', id: broken }, data: { sequence: 2 } },
      attempts: 3,
      lastError: 'Error: the CRM refused the change',
      heldEvents: 1,
    });
    expect(deadLetter!.parkedAt).toBeInstanceOf(Date);

    // Another tenant neither sees nor touches it.
    const otherTenant = randomUUID();
    expect(await consumer.deadLetters.list({ tenantId: otherTenant })).toEqual([]);
    expect(await consumer.deadLetters.replay(deadLetter!.id, { tenantId: otherTenant })).toBe(false);
    expect(await consumer.deadLetters.discard(deadLetter!.id, { tenantId: otherTenant })).toBe(false);
    expect(await sequencesOf(broken)).toEqual([1]);

    failing = false;
    expect(await consumer.deadLetters.replay(deadLetter!.id, { tenantId })).toBe(true);
    await eventually(async () => (await sequencesOf(broken)).length === 3, 'the replayed and held events are handled');
    expect(await sequencesOf(broken)).toEqual([1, 2, 3]);
    expect(await consumer.deadLetters.list({ tenantId })).toEqual([]);
    expect(await consumer.deadLetters.replay(deadLetter!.id, { tenantId })).toBe(false);
  });

  it('parks at once an event no retry can help, and discarding it lets its entity go on', async () => {
    const tenantId = randomUUID();
    const note = randomUUID();
    behaviours.set(note, async (event) => {
      if (event.data.sequence === 1) throw new UnhandleableEventError('this note can never be synchronised');
    });
    await publishNote(tenantId, note, 1);
    await publishNote(tenantId, note, 2);
    await eventually(async () => (await consumer.deadLetters.count({ tenantId })) === 1, 'the event is parked');
    const [deadLetter] = await consumer.deadLetters.list({ tenantId });
    expect(deadLetter).toMatchObject({ attempts: 1, heldEvents: 1, lastError: 'UnhandleableEventError: this note can never be synchronised' });

    expect(await consumer.deadLetters.discard(deadLetter!.id, { tenantId })).toBe(true);
    await eventually(async () => (await sequencesOf(note)).length === 1, 'the held event is handled');
    expect(await sequencesOf(note)).toEqual([2]);
    expect(await consumer.deadLetters.discard(deadLetter!.id)).toBe(false);
  });
});

describe('a batch with a failing event', () => {
  it("handles the batch's other events, retries the failing one and keeps its entity's order", async () => {
    const tenantId = randomUUID();
    const [broken, ...healthy] = await idsInOneShard(5);
    let failures = 0;
    behaviours.set(broken!, async (event) => {
      if (event.data.sequence === 1 && failures === 0) {
        failures += 1;
        throw new Error('the CRM was briefly unavailable');
      }
    });
    // One transaction: the events reach the shard's job together and are taken as one batch.
    await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
      await publishEvents(transaction, noteChanged, [
        ...healthy.map((entityId) => ({ entityId, data: { sequence: 1, text: 'version 1' }, requestId: 'request-batch' })),
        { entityId: broken!, data: { sequence: 1, text: 'version 1' }, requestId: 'request-batch' },
        { entityId: broken!, data: { sequence: 2, text: 'version 2' }, requestId: 'request-batch' },
        ...healthy.map((entityId) => ({ entityId, data: { sequence: 2, text: 'version 2' }, requestId: 'request-batch' })),
      ]);
    });
    await eventually(async () => (await seen([broken!, ...healthy])).length === 10, 'every event is handled');
    expect(failures).toBe(1);
    expect(await sequencesOf(broken!)).toEqual([1, 2]);
    for (const entityId of healthy) expect(await sequencesOf(entityId)).toEqual([1, 2]);
    // Each effect committed once, and nothing is left waiting or parked.
    expect(new Set((await seen([broken!, ...healthy])).map((row) => row.event_id)).size).toBe(10);
    expect(await count(`select count(*) from gtm_events.delivery where tenant_id = ?`, [tenantId])).toBe(0);
  });

  it("does not hold the shard's other entities until a failed event's retry is due", async () => {
    const subscriber = 'events_consumer_slow_retry';
    const tenantId = randomUUID();
    const [failing, other] = await idsInOneShard(2);
    const handled: string[] = [];
    const slowRetries = await startEventConsumer({
      database: consumerDatabase,
      databaseUrl: testDatabase.url,
      logger,
      subscriber,
      subscriptions: [
        subscribe(noteChanged, async (event) => {
          if (event.entity.id === failing) throw new Error('fails until its retry, a minute away');
          handled.push(event.entity.id);
        }),
      ],
      retryDelayMs: () => 60_000,
      pollIntervalMs: 100,
    });
    try {
      await publishNote(tenantId, failing!, 1);
      await eventually(
        async () => (await count(`select count(*) from gtm_events.delivery where subscriber = ? and entity_id = ? and attempts = 1`, [subscriber, failing])) === 1,
        'the first attempt fails',
      );
      await publishNote(tenantId, other!, 1);
      // Its shard's job was waiting for the retry a minute away; the new event must not wait with it.
      await eventually(async () => handled.includes(other!), "the other entity's event is handled", 20_000);
    } finally {
      await slowRetries.close();
      await consumerDatabase.orm.em.fork().execute(`delete from gtm_events.subscription where subscriber = ?`, [subscriber]);
      await consumerDatabase.orm.em.fork().execute(`delete from gtm_events.delivery where subscriber = ?`, [subscriber]);
    }
  });
});

describe('a consumer that is down', () => {
  it('receives, once it is back, what was published meanwhile', async () => {
    const tenantId = randomUUID();
    const note = randomUUID();
    await publishNote(tenantId, note, 1);
    await eventually(async () => (await seen([note])).length === 1, 'the first event is handled');
    await consumer.close();
    for (const sequence of [2, 3, 4]) await publishNote(tenantId, note, sequence);
    // Relayed to the consumer's deliveries while it is gone.
    await eventually(async () => (await count(`select count(*) from gtm_events.delivery where entity_id = ?`, [note])) === 3, 'the events wait as deliveries');
    expect(await sequencesOf(note)).toEqual([1]);
    // A record older than the retention, pruned when the consumer starts.
    const stale = randomUUID();
    await consumerDatabase.orm.em
      .fork()
      .execute(`insert into ${consumerSchema}.processed_event (subscriber, event_id, event_name, tenant_id, processed_at) values (?, ?, 'note.changed', ?, now() - interval '31 days')`, [
        consumerSchema,
        stale,
        tenantId,
      ]);

    consumer = await startEventConsumer({
      database: consumerDatabase,
      databaseUrl: testDatabase.url,
      logger,
      subscriptions: [noteSubscription()],
      pollIntervalMs: 100,
    });
    await eventually(async () => (await seen([note])).length === 4, 'the waiting events are handled');
    expect(await sequencesOf(note)).toEqual([1, 2, 3, 4]);
    expect(await count(`select count(*) from ${consumerSchema}.processed_event where event_id = ?`, [stale])).toBe(0);
    expect(await count(`select count(*) from ${consumerSchema}.processed_event where tenant_id = ?`, [tenantId])).toBe(4);
  });
});

describe('the shared schemas', () => {
  it('uses the one graphile-worker schema of the database', async () => {
    expect(await count(`select count(*) from ${sharedWorkerSchema}._private_tasks where identifier = ?`, [`gtm_events:${consumerSchema}`])).toBe(1);
  });
});

describe('a batch subscription', () => {
  /** Each call of the batch handler: the entities, tenants and sequences it was given, and the tenant of its context. */
  const batches: Array<{ tenantId: string; scope: string | undefined; events: Array<{ entityId: string; tenantId: string; sequence: number }> }> = [];
  /** What the batch handler does before its write, when a batch holds this entity's event. */
  const batchBehaviours = new Map<string, (event: NoteEvent, context: EventBatchHandlerContext) => Promise<void>>();
  const startBatchConsumer = (options: { shutdownAbortAfterMs?: number } = {}) =>
    startEventConsumer({
      database: consumerDatabase,
      databaseUrl: testDatabase.url,
      logger,
      subscriptions: [
        noteBatchSubscription(async (events, context) => {
          batches.push({
            tenantId: context.tenantId,
            scope: context.em.getFilterParams<{ tenantId?: string }>(tenantFilterName)?.tenantId,
            events: events.map((event) => ({ entityId: event.entity.id, tenantId: event.tenantId, sequence: event.data.sequence })),
          });
          for (const event of events) await batchBehaviours.get(event.entity.id)?.(event, context);
        }),
      ],
      concurrency: 4,
      maxAttempts: 3,
      retryDelayMs: () => 50,
      pollIntervalMs: 100,
      ...options,
    });
  const batchesWith = (entityIds: string[]) => batches.filter((batch) => batch.events.some((event) => entityIds.includes(event.entityId)));

  beforeAll(async () => {
    // The same subscriber, now declaring a batch handler: what waits for it is handled by batches.
    await consumer.close();
    consumer = await startBatchConsumer();
  });

  it("hands a tenant's events to one handler call, keeps each entity's order across batches, and records each once", async () => {
    const [tenantA, tenantB] = [randomUUID(), randomUUID()];
    const notes = await idsInOneShard(8);
    const tenantOf = (note: string) => (notes.indexOf(note) % 2 === 0 ? tenantA : tenantB);
    // One transaction per tenant, three changes of each note: the shard's job finds them together.
    for (const tenantId of [tenantA, tenantB]) {
      const mine = notes.filter((note) => tenantOf(note) === tenantId);
      await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
        await publishEvents(
          transaction,
          noteChanged,
          [1, 2, 3].flatMap((sequence) => mine.map((entityId) => ({ entityId, data: { sequence, text: `version ${sequence}` }, requestId: 'request-batch' }))),
        );
      });
    }
    await eventually(async () => (await seen(notes)).length === 24, 'every event is handled');
    for (const note of notes) expect(await sequencesOf(note)).toEqual([1, 2, 3]);
    const rows = await seen(notes);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(24);
    for (const row of rows) expect(row.tenant_id).toBe(tenantOf(row.entity_id));
    const calls = batchesWith(notes);
    // Fewer handler calls than events: the events of several entities came together.
    expect(calls.length).toBeLessThan(24);
    expect(Math.max(...calls.map((call) => call.events.length))).toBeGreaterThan(1);
    for (const call of calls) {
      // One tenant per call, the context's EntityManager scoped to it, one event per entity.
      expect(call.scope).toBe(call.tenantId);
      for (const event of call.events) expect(event.tenantId).toBe(call.tenantId);
      expect(new Set(call.events.map((event) => event.entityId)).size).toBe(call.events.length);
    }
    expect(await count(`select count(*) from ${consumerSchema}.processed_event where tenant_id in (?, ?)`, [tenantA, tenantB])).toBe(24);
    expect(await count(`select count(*) from gtm_events.delivery where tenant_id in (?, ?)`, [tenantA, tenantB])).toBe(0);
  });

  it("parks a poisoned event of a batch alone: the batch's other events are handled, its entity's later ones wait", async () => {
    const tenantId = randomUUID();
    const [poisoned, ...healthy] = await idsInOneShard(6);
    let briefFailures = 0;
    batchBehaviours.set(poisoned!, async (event) => {
      if (event.data.sequence === 1) throw new Error('this event can never be handled');
    });
    // One of the healthy entities fails once too: it is retried alone and keeps its order.
    batchBehaviours.set(healthy[0]!, async (event) => {
      if (event.data.sequence === 1 && briefFailures === 0) {
        briefFailures += 1;
        throw new Error('briefly unavailable');
      }
    });
    await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
      await publishEvents(
        transaction,
        noteChanged,
        [1, 2].flatMap((sequence) => [poisoned!, ...healthy].map((entityId) => ({ entityId, data: { sequence, text: `version ${sequence}` }, requestId: 'request-poison' }))),
      );
    });
    await eventually(async () => (await seen(healthy)).length === 10, "the healthy entities' events are handled");
    for (const note of healthy) expect(await sequencesOf(note)).toEqual([1, 2]);
    expect(briefFailures).toBe(1);
    await eventually(async () => (await consumer.deadLetters.count({ tenantId })) === 1, 'the poisoned event is parked');
    const [deadLetter] = await consumer.deadLetters.list({ tenantId });
    expect(deadLetter).toMatchObject({ event: { entity: { id: poisoned }, data: { sequence: 1 } }, attempts: 3, lastError: 'Error: this event can never be handled', heldEvents: 1 });
    expect(await sequencesOf(poisoned!)).toEqual([]);
    // Its failures were its own: after the first batch it came alone.
    expect(batchesWith([poisoned!]).slice(1).every((call) => call.events.length === 1)).toBe(true);

    expect(await consumer.deadLetters.discard(deadLetter!.id, { tenantId })).toBe(true);
    await eventually(async () => (await sequencesOf(poisoned!)).length === 1, 'the held event is handled');
    expect(await sequencesOf(poisoned!)).toEqual([2]);
    expect(new Set((await seen([poisoned!, ...healthy])).map((row) => row.event_id)).size).toBe(11);
  });

  it('hands a batch stopped mid-handler to the next consumer, its effects once', async () => {
    const tenantId = randomUUID();
    const notes = await idsInOneShard(6);
    let stopped: (() => void) | undefined;
    const reachedHandler = new Promise<void>((resolve) => (stopped = resolve));
    for (const note of notes) {
      // The first batch writes its rows (recordSeenBatch runs after this hook, so the hook waits
      // after a write of its own), then hangs until the consumer stops under it.
      batchBehaviours.set(note, async (_event, context) => {
        await context.em.execute(`insert into ${consumerSchema}.seen_event (id, tenant_id, event_id, entity_id, sequence, pid, created_at, updated_at) values (gen_random_uuid(), ?, gen_random_uuid(), ?, 0, 0, now(), now())`, [tenantId, note]);
        stopped!();
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
        throw new Error('stopped');
      });
    }
    await consumer.close();
    consumer = await startBatchConsumer({ shutdownAbortAfterMs: 100 });
    await publisher.forkForTenant(tenantId).transactional(async (transaction) => {
      await publishEvents(transaction, noteChanged, [1, 2].flatMap((sequence) => notes.map((entityId) => ({ entityId, data: { sequence, text: `version ${sequence}` }, requestId: 'request-stop' }))));
    });
    await reachedHandler;
    await consumer.close();
    for (const note of notes) batchBehaviours.delete(note);
    // Nothing of the stopped batch committed, and none of its events used an attempt.
    expect(await seen(notes)).toEqual([]);
    expect(await count(`select count(*) from gtm_events.delivery where tenant_id = ? and attempts > 0`, [tenantId])).toBe(0);

    consumer = await startBatchConsumer();
    await eventually(async () => (await seen(notes)).length === 12, 'every event is handled by the next consumer');
    for (const note of notes) expect(await sequencesOf(note)).toEqual([1, 2]);
    expect(new Set((await seen(notes)).map((row) => row.event_id)).size).toBe(12);
  });
});
