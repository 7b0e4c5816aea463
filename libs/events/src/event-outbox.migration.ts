import { Migration } from '@mikro-orm/migrations';

/**
 * The `event_outbox` table, in the schema of a service that publishes events: `publishEvent` writes
 * it in the transaction of the change, and the service's relay moves its rows to the subscribers.
 * A publishing service appends it to its own migrations list, e.g.
 * `{ name: '20261204000000-create-event-outbox', class: CreateEventOutbox }`.
 */
export class CreateEventOutbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table event_outbox (
        -- Taken after the change's row lock, so two events of one entity are numbered in commit order.
        position bigserial primary key,
        event_id uuid not null unique,
        tenant_id uuid not null,
        name text not null,
        version integer not null,
        entity_type text not null,
        entity_id text not null,
        occurred_at timestamptz not null,
        request_id text,
        data jsonb not null
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists event_outbox');
  }
}

/**
 * Lets one outbox row stand for one event of many entities (`publishEventForEntities`): the same
 * name and data for each entity of `entity_ids`, which the relay delivers as one event per entity,
 * in that entity's stream. An import's 100,000 new leads are then 100 rows, not 100,000 (decision
 * 0085). A publishing service appends it after `CreateEventOutbox`, e.g.
 * `{ name: '20261204300100-event-outbox-for-many-entities', class: EventOutboxForManyEntities }`.
 */
export class EventOutboxForManyEntities extends Migration {
  override async up(): Promise<void> {
    // Null for a row of one event; else the row's entities in the order their events are delivered.
    this.addSql(`alter table event_outbox add column if not exists entity_ids text[]`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from event_outbox where entity_ids is not null`);
    this.addSql(`alter table event_outbox drop column if exists entity_ids`);
  }
}
