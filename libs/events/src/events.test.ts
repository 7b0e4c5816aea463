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
import { subscribe, type EventHandlerContext } from './subscription.js';
import {
  consumerSchema,
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
