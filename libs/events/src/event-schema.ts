import type { Database, Logger } from '@gtm/runtime';
import { shardOfStreamSql } from './delivery-jobs.js';

/**
 * The schema that carries events between the services of a database: who subscribes to what, and
 * the deliveries not yet handled. Like graphile-worker's (decision 0018) it is one per database,
 * owned by this library, not by any service; a service's own tables (its outbox, the events it
 * processed) stay in its own schema.
 */
export const sharedEventSchema = 'gtm_events';

const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** A schema name, checked, as an SQL identifier. */
export function quoteSchema(schema: string): string {
  if (!identifierPattern.test(schema)) throw new Error(`a schema name must be a lower-case SQL identifier; got "${schema}"`);
  return `"${schema}"`;
}

/** Versions of the shared schema, in order. Append; never edit one that has shipped. */
function migrationsOf(schema: string): string[][] {
  return [
    [
      `create table ${schema}.subscription (
      subscriber text not null,
      event_name text not null,
      event_version integer not null,
      declared_at timestamptz not null default now(),
      primary key (event_name, event_version, subscriber)
    )`,
      `create table ${schema}.delivery (
      id bigserial primary key,
      subscriber text not null,
      -- entity_type:entity_id; a subscriber handles one stream's events one at a time, in id order
      stream text not null,
      event_id uuid not null,
      event_name text not null,
      event_version integer not null,
      tenant_id uuid not null,
      entity_type text not null,
      entity_id text not null,
      occurred_at timestamptz not null,
      request_id text,
      publisher text not null,
      data jsonb not null,
      relayed_at timestamptz not null default now(),
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      last_error text,
      last_failed_at timestamptz,
      parked_at timestamptz,
      unique (subscriber, event_id)
    )`,
      `create index delivery_stream on ${schema}.delivery (subscriber, stream, id)`,
      `create index delivery_parked on ${schema}.delivery (subscriber, tenant_id, id) where parked_at is not null`,
    ],
    [
      // Deliveries are handled by shard (a fixed hash of the stream): a job per shard, in batches.
      `alter table ${schema}.delivery add column shard smallint`,
      `update ${schema}.delivery set shard = ${shardOfStreamSql('stream')}`,
      `alter table ${schema}.delivery alter column shard set not null`,
      `create index delivery_shard on ${schema}.delivery (subscriber, shard, id) where parked_at is null`,
    ],
  ];
}

/**
 * Creates or updates the shared event schema. Every service that publishes or consumes calls it at
 * start; they may start together, so one migrates under a transaction-level advisory lock while
 * the others wait, then find nothing to do.
 */
export async function migrateEventSchema(options: { database: Database; eventSchema?: string; logger: Logger }): Promise<void> {
  const schema = quoteSchema(options.eventSchema ?? sharedEventSchema);
  const migrations = migrationsOf(schema);
  const applied = await options.database.orm.em.fork({ clear: true }).transactional(async (transaction) => {
    await transaction.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`gtm-events-migrations:${schema}`]);
    await transaction.execute(`create schema if not exists ${schema}`);
    await transaction.execute(`create table if not exists ${schema}.migration (id integer primary key, applied_at timestamptz not null default now())`);
    const rows = await transaction.execute<Array<{ id: number }>>(`select id from ${schema}.migration`);
    const done = new Set(rows.map((row) => Number(row.id)));
    const now: number[] = [];
    for (const [index, statements] of migrations.entries()) {
      const id = index + 1;
      if (done.has(id)) continue;
      for (const statement of statements) await transaction.execute(statement);
      await transaction.execute(`insert into ${schema}.migration (id) values (?)`, [id]);
      now.push(id);
    }
    return now;
  });
  if (applied.length > 0) options.logger.info({ eventSchema: options.eventSchema ?? sharedEventSchema, migrations: applied }, 'migrated the shared event schema');
}
