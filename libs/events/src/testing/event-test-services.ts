// Two pretend services for the library's own tests, in one test database: a publisher with an
// outbox and a `note` table, and a consumer whose handler writes what it saw to `seen_event`, a
// table with no unique constraint, so an event whose effect was committed twice shows as two rows.
// Shared by the in-process tests and the consumer process the kill test starts and kills.
import type { MigrationObject } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Migration } from '@mikro-orm/migrations';
import { createDatabase, TenantScopedEntity, type Database, type Logger } from '@gtm/runtime';
import { z } from 'zod';
import { defineEvent } from '../event-definition.js';
import { CreateEventOutbox, EventOutboxForManyEntities } from '../event-outbox.migration.js';
import { CreateProcessedEvents } from '../processed-event.migration.js';
import { subscribe, subscribeBatch, type EventBatchHandlerContext, type EventHandlerContext } from '../subscription.js';
import type { DomainEvent } from '../event-definition.js';

export const publisherSchema = 'events_publisher';
export const consumerSchema = 'events_consumer';

@Entity({ tableName: 'note' })
export class Note extends TenantScopedEntity {
  @Property({ type: 'text' })
  text!: string;
}

@Entity({ tableName: 'seen_event' })
export class SeenEvent extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  eventId!: string;

  @Property({ type: 'text' })
  entityId!: string;

  @Property({ type: 'integer' })
  sequence!: number;

  @Property({ type: 'text', nullable: true })
  requestId: string | null = null;

  @Property({ type: 'integer' })
  pid!: number;
}

class CreateNotes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table note (id uuid primary key, tenant_id uuid not null, text text not null, created_at timestamptz not null, updated_at timestamptz not null)`);
  }
}

class CreateSeenEvents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table seen_event (
        -- The order rows were written in: an entity's events are handled one after the other.
        seen_order bigserial, id uuid primary key, tenant_id uuid not null, event_id uuid not null, entity_id text not null, sequence integer not null,
        request_id text, pid integer not null, created_at timestamptz not null, updated_at timestamptz not null
      )`);
  }
}

const publisherMigrations: MigrationObject[] = [
  { name: '1-create-event-outbox', class: CreateEventOutbox },
  { name: '2-create-notes', class: CreateNotes },
  { name: '3-event-outbox-for-many-entities', class: EventOutboxForManyEntities },
];
const consumerMigrations: MigrationObject[] = [
  { name: '1-create-processed-events', class: CreateProcessedEvents },
  { name: '2-create-seen-events', class: CreateSeenEvents },
];

/** A note changed; `sequence` counts the changes of one note, so order can be checked. */
export const noteChanged = defineEvent({
  name: 'note.changed',
  version: 1,
  entityType: 'Note',
  schema: z.object({ sequence: z.number().int().min(1), text: z.string() }),
});

export async function openPublisherDatabase(url: string, logger: Logger, onQuery?: (sql: string) => void): Promise<Database> {
  const database = await createDatabase({ url, schema: publisherSchema, entities: [Note], migrations: publisherMigrations, logger, poolMax: 6, onQuery });
  await database.migrate();
  return database;
}

export async function openConsumerDatabase(url: string, logger: Logger): Promise<Database> {
  const database = await createDatabase({ url, schema: consumerSchema, entities: [SeenEvent], migrations: consumerMigrations, logger, poolMax: 8 });
  await database.migrate();
  return database;
}

/** Writes what the handler saw, with its em (so in the transaction that records the event processed). */
export async function recordSeen(event: DomainEvent<{ sequence: number }>, context: EventHandlerContext): Promise<void> {
  const seen = context.em.create(SeenEvent, {
    tenantId: event.tenantId,
    eventId: event.id,
    entityId: event.entity.id,
    sequence: event.data.sequence,
    requestId: event.requestId,
    pid: process.pid,
  });
  context.em.persist(seen);
  await context.em.flush();
}

/** The consumer's subscription, with a hook run before the write (to wait, or to fail). */
export function noteSubscription(beforeRecord?: (event: DomainEvent<z.output<typeof noteChanged.schema>>, context: EventHandlerContext) => Promise<void>) {
  return subscribe(noteChanged, async (event, context) => {
    await beforeRecord?.(event, context);
    await recordSeen(event, context);
  });
}

/** Writes what a batch handler saw in one statement, with its em (so in the batch's transaction). */
export async function recordSeenBatch(events: Array<DomainEvent<{ sequence: number }>>, context: EventBatchHandlerContext): Promise<void> {
  const rows = events.map((event) => ({ event_id: event.id, tenant_id: event.tenantId, entity_id: event.entity.id, sequence: event.data.sequence, request_id: event.requestId }));
  await context.em.execute(
    `insert into ${consumerSchema}.seen_event (id, tenant_id, event_id, entity_id, sequence, request_id, pid, created_at, updated_at)
     select gen_random_uuid(), tenant_id, event_id, entity_id, sequence, request_id, ?, now(), now()
     from jsonb_to_recordset(?::jsonb) as seen(event_id uuid, tenant_id uuid, entity_id text, sequence integer, request_id text)`,
    [process.pid, JSON.stringify(rows)],
  );
}

/** The consumer's subscription as a batch handler, with a hook run before the write (to wait, or to fail). */
export function noteBatchSubscription(
  beforeRecord?: (events: Array<DomainEvent<z.output<typeof noteChanged.schema>>>, context: EventBatchHandlerContext) => Promise<void>,
) {
  return subscribeBatch(noteChanged, async (events, context) => {
    await beforeRecord?.(events, context);
    await recordSeenBatch(events, context);
  });
}
