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
  /** Outbox rows moved per transaction. Default: 500. */
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

  const relayBatch = async (): Promise<number> => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ relayed: number; shards: ShardOfSubscriber[] }>(
        `with batch as (
           delete from ${outbox}
           where position in (select position from ${outbox} order by position limit $1 for update)
           returning *
         ), delivered as (
           insert into ${eventSchema}.delivery
             (subscriber, stream, shard, event_id, event_name, event_version, tenant_id, entity_type, entity_id, occurred_at, request_id, publisher, data)
           select subscription.subscriber, batch.entity_type || ':' || batch.entity_id, ${shardOfStreamSql(`batch.entity_type || ':' || batch.entity_id`)},
             batch.event_id, batch.name, batch.version, batch.tenant_id, batch.entity_type, batch.entity_id, batch.occurred_at, batch.request_id, $2, batch.data
           from batch
           join ${eventSchema}.subscription on subscription.event_name = batch.name and subscription.event_version = batch.version
           order by batch.position, subscription.subscriber
           on conflict (subscriber, event_id) do nothing
           returning subscriber, shard
         )
         select (select count(*) from batch)::integer as relayed,
           coalesce((select json_agg(distinct jsonb_build_object('subscriber', subscriber, 'shard', shard)) from delivered), '[]') as shards`,
        [batchSize, publisher],
      );
      await scheduleShards(async (text, values) => (await client.query(text, values)).rows, workerSchema, rows[0]!.shards);
      await client.query('commit');
      return Number(rows[0]!.relayed);
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
          let moved: number;
          do {
            moved = await relayBatch();
            total += moved;
          } while (moved === batchSize && !state.closed);
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
