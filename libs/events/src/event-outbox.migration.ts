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
