import { Migration } from '@mikro-orm/migrations';

/**
 * The `processed_event` table, in the schema of a service that consumes events: a row per event
 * handled, written in the handler's own transaction, so an event delivered again is recognised and
 * skipped. A consuming service appends it to its own migrations list, e.g.
 * `{ name: '20261204000000-create-processed-events', class: CreateProcessedEvents }`.
 */
export class CreateProcessedEvents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table processed_event (
        subscriber text not null,
        event_id uuid not null,
        event_name text not null,
        tenant_id uuid not null,
        processed_at timestamptz not null default now(),
        primary key (subscriber, event_id)
      )`);
    this.addSql(`create index processed_event_processed_at on processed_event (processed_at)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists processed_event');
  }
}
