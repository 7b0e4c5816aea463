import type { Database, Logger } from '@gtm/runtime';
import { createWorkerPool, migrateWorkerSchema, quotedWorkerSchema, sharedWorkerSchema } from '@gtm/jobs';
import pg from 'pg';
import { scheduleShards, shardOfStreamSql, type ShardOfSubscriber } from './delivery-jobs.js';
import { migrateEventSchema, quoteSchema, sharedEventSchema } from './event-schema.js';
import { outboxChannel } from './publish.js';

export interface StartEventRelayOptions {
  /** The publishing service's database: its outbox is `event_outbox` in its schema. */
  database: Database;
  /** Its URL, for the connection that listens for commits. */
  databaseUrl: string;
  logger: Logger;
  /** graphile-worker's schema. Default: `sharedWorkerSchema`. */
  workerSchema?: string;
  /** The shared event schema. Default: `sharedEventSchema`. */
  eventSchema?: string;
  /** Events moved per transaction (a row of many entities counts each). Default: 500. */
  batchSize?: number;
  /**
   * How often the outbox is looked at without a notification (one lost while the listening
   * connection was down). Default: 1 000 ms.
   */
  pollIntervalMs?: number;
}

export interface EventRelay {
  /** Moves what the outbox holds now to the subscribers; resolves with the number of events moved. */
  relayNow(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Moves a publishing service's outbox to its subscribers: each committed event becomes a delivery
 * per subscription (`gtm_events.delivery`) and a graphile-worker job per shard of them, in one transaction
 * with the deletion of the outbox rows, so an event is delivered once it is committed and never
 * dropped between the two. Woken by the publishing transaction's NOTIFY at commit, and polling
 * besides. Several relays of one outbox (one per process) are safe: they lock the rows they move,
 * in outbox order, so an entity's events reach the deliveries in the order they were committed.
 */
export async function startEventRelay(options: StartEventRelayOptions): Promise<EventRelay> {
  const { database, logger } = options;
  const publisher = database.orm.config.get('schema');
  if (!publisher) throw new Error('the relay needs a service database (createDatabase) with a schema');
  const outbox = `${quoteSchema(publisher)}.event_outbox`;
  const eventSchema = quoteSchema(options.eventSchema ?? sharedEventSchema);
  const workerSchemaName = options.workerSchema ?? sharedWorkerSchema;
  const workerSchema = quotedWorkerSchema(workerSchemaName);
  const batchSize = options.batchSize ?? 500;
  await migrateWorkerSchema({ databaseUrl: options.databaseUrl, workerSchema: workerSchemaName, logger });
  await migrateEventSchema({ database, eventSchema: options.eventSchema, logger });

  // Its own connection, not the service's: relaying never waits for a request's connection, nor
  // shows among a request's queries.
  const pool = createWorkerPool({ databaseUrl: options.databaseUrl, max: 1, logger, name: `gtm-event-relay:${publisher}` });

  /** One transaction's move: `events` delivered from `rows` outbox rows; `more` when the outbox had more waiting. */
  const relayBatch = async (): Promise<{ events: number; more: boolean }> => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      // A row of many entities (publishEventForEntities) weighs its number of entities, so one
      // transaction moves about `batchSize` events whatever the rows; it takes at least one row.
      const { rows } = await client.query<{ relayed: number; candidates: number; taken: number; shards: ShardOfSubscriber[] }>(
        `with candidate as (
           select position, coalesce(cardinality(entity_ids), 1) as weight from ${outbox} order by position limit $1 for update
         ), taken as (
           select position from (select position, sum(weight) over (order by position) - weight as before from candidate) weighed where before < $1
         ), batch as (
           delete from ${outbox} where position in (select position from taken) returning *
         ), event as (
           select batch.position, 0::bigint as ordinal, batch.event_id, batch.entity_id, batch.name, batch.version, batch.tenant_id, batch.entity_type,
             batch.occurred_at, batch.request_id, batch.data
           from batch where batch.entity_ids is null
           union all
           -- One event per entity of a many-entity row, its id derived from the row's, so it is the same on every delivery.
           select batch.position, entity.ordinal, md5(batch.event_id::text || ':' || entity.id)::uuid, entity.id, batch.name, batch.version, batch.tenant_id,
             batch.entity_type, batch.occurred_at, batch.request_id, batch.data
           from batch cross join unnest(batch.entity_ids) with ordinality as entity(id, ordinal) where batch.entity_ids is not null
         ), delivered as (
           insert into ${eventSchema}.delivery
             (subscriber, stream, shard, event_id, event_name, event_version, tenant_id, entity_type, entity_id, occurred_at, request_id, publisher, data)
           select subscription.subscriber, event.entity_type || ':' || event.entity_id, ${shardOfStreamSql(`event.entity_type || ':' || event.entity_id`)},
             event.event_id, event.name, event.version, event.tenant_id, event.entity_type, event.entity_id, event.occurred_at, event.request_id, $2, event.data
           from event
           join ${eventSchema}.subscription on subscription.event_name = event.name and subscription.event_version = event.version
           order by event.position, event.ordinal, subscription.subscriber
           on conflict (subscriber, event_id) do nothing
           returning subscriber, shard
         )
         select (select count(*) from event)::integer as relayed, (select count(*) from candidate)::integer as candidates, (select count(*) from taken)::integer as taken,
           coalesce((select json_agg(distinct jsonb_build_object('subscriber', subscriber, 'shard', shard)) from delivered), '[]') as shards`,
        [batchSize, publisher],
      );
      await scheduleShards(async (text, values) => (await client.query(text, values)).rows, workerSchema, rows[0]!.shards);
      await client.query('commit');
      const { relayed, candidates, taken } = rows[0]!;
      return { events: Number(relayed), more: Number(candidates) === batchSize || Number(taken) < Number(candidates) };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  const state = { closed: false };
  let running: Promise<number> | null = null;
  let again = false;
  // One relay loop at a time in this process; a wake-up meanwhile makes it go round once more.
  const relayNow = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          let moved: { events: number; more: boolean };
          do {
            moved = await relayBatch();
            total += moved.events;
          } while (moved.more && !state.closed);
        } while (again && !state.closed);
        return total;
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const wake = () => {
    if (state.closed) return;
    relayNow().catch((error: unknown) => logger.error({ err: error }, 'could not relay events from the outbox; retrying at the next poll'));
  };

  // The listening connection: a lost one is replaced after a pause, the poll covering the gap.
  let listener: pg.Client | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  const listen = async () => {
    const client = new pg.Client({ connectionString: options.databaseUrl, application_name: `gtm-event-relay:${publisher}` });
    client.on('notification', (message) => {
      if (message.payload === publisher) wake();
    });
    client.on('error', (error) => {
      logger.warn({ err: error }, 'the event relay lost its listening connection; reconnecting');
      if (listener === client) listener = null;
      client.end().catch(() => undefined);
      if (!state.closed && !reconnectTimer) {
        reconnectTimer = setTimeout(() => {
          reconnectTimer = null;
          listen().catch((reconnectError: unknown) => logger.warn({ err: reconnectError }, 'the event relay could not listen again; polling meanwhile'));
        }, 1_000);
        reconnectTimer.unref();
      }
    });
    await client.connect();
    await client.query(`listen ${outboxChannel}`);
    if (state.closed) {
      await client.end();
      return;
    }
    listener = client;
    // What was committed before this connection listened.
    wake();
  };
  try {
    await listen();
  } catch (error) {
    state.closed = true;
    await pool.end();
    throw error;
  }
  const pollTimer = setInterval(wake, options.pollIntervalMs ?? 1_000);
  pollTimer.unref();
  logger.info({ publisher }, 'event relay started');

  return {
    relayNow,
    async close() {
      if (state.closed) return;
      state.closed = true;
      clearInterval(pollTimer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      await running?.catch(() => undefined);
      const client = listener;
      listener = null;
      await client?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
