import { EventEmitter } from 'node:events';
import { tenantFilterName, type Database, type EntityManager, type Logger } from '@gtm/runtime';
import { createGraphileLogger, createWorkerPool, createWorkerPresence, migrateWorkerSchema, quotedWorkerSchema, sharedWorkerSchema } from '@gtm/jobs';
import { run, type JobHelpers, type Runner, type WorkerEvents } from 'graphile-worker';
import { createDeadLetters, type DeadLetters } from './dead-letters.js';
import { checkSubscriber, deliveryTaskOf, scheduleShards, shardCount, type DeliveryJobPayload, type SqlRunner } from './delivery-jobs.js';
import { deliveryColumns, eventOfDelivery, type DeliveryRow } from './delivery-row.js';
import { migrateEventSchema, quoteSchema, sharedEventSchema } from './event-schema.js';
import type { DomainEvent } from './event-definition.js';
import { isBatchSubscription, type AnySubscription, type BatchSubscription } from './subscription.js';

export interface StartEventConsumerOptions {
  /** The consuming service's database: handlers write to it, and it has `processed_event` (CreateProcessedEvents). */
  database: Database;
  /** Its URL, for graphile-worker's connections. */
  databaseUrl: string;
  logger: Logger;
  /** What this service reacts to, declared in its code; what it no longer declares, it stops receiving. */
  subscriptions: AnySubscription[];
  /** Default: the database's schema (`conversation`). Two consumers of one name share their deliveries. */
  subscriber?: string;
  /** Shards (batches of entities) handled at the same time, each holding a connection of the service's pool for its transaction. Default: 2. */
  concurrency?: number;
  /** Attempts before an event is parked as a dead letter. Default: 5. */
  maxAttempts?: number;
  /** The pause before attempt `attempt + 1`. Default: 1 s, doubling, at most 5 minutes. */
  retryDelayMs?: (attempt: number) => number;
  /** graphile-worker's schema. Default: `sharedWorkerSchema`. */
  workerSchema?: string;
  /** The shared event schema. Default: `sharedEventSchema`. */
  eventSchema?: string;
  /** How often graphile-worker looks for retries that became due (new events arrive at once). Default: 1 000 ms. */
  pollIntervalMs?: number;
  /** How often to look for deliveries held by consumer processes that died. Default: 10 000 ms. */
  recoveryIntervalMs?: number;
  /** A lock younger than this is not taken over (libs/jobs worker presence). Default: 2 000 ms. */
  lockGraceMs?: number;
  /** How long `close()` lets a handler finish before its `signal` aborts. Default: 5 000 ms. */
  shutdownAbortAfterMs?: number;
  /** How often to make sure every stream with events waiting has a job (after lost or failed jobs). Default: 60 000 ms. */
  sweepIntervalMs?: number;
  /**
   * How long a processed-event record is kept. A delivery is removed in the transaction that
   * records it, so a record only ever meets an event delivered again by hand or republished with
   * its id; it is pruned by the sweep once older than this. Default: 30 days.
   */
  processedRetentionDays?: number;
  /** Events handled in one transaction when all goes well (a failure sends them one by one). Default: 50. */
  batchSize?: number;
  /** Batches one job handles before it hands its shard to a new job, so one busy shard cannot hold a worker. Default: 20. */
  batchesPerRun?: number;
  /**
   * How long an entity's next event may wait, due, before the consumer looks at why: a shard with
   * no job that will take it (lost, or held in graphile-worker's backoff) is logged at warn and
   * given one; jobs due but not taken by a worker for that long are logged at warn (the consumer
   * is behind, or its worker pool stopped). Default: 30 000 ms.
   */
  stallAfterMs?: number;
  /** How often to look for such shards. Default: 5 000 ms. */
  stallCheckIntervalMs?: number;
}

export interface EventConsumer {
  subscriber: string;
  /** This subscriber's parked events: list, replay, discard. */
  deadLetters: DeadLetters;
  /** Hands back, now, the deliveries of consumer processes that died; resolves with how many were dead. */
  recoverNow(): Promise<number>;
  /** Stops taking events; a handler still running after `shutdownAbortAfterMs` is aborted and its event handled again later. */
  close(): Promise<void>;
}

/** Thrown for an event that no retry can help: it is parked at once. */
export class UnhandleableEventError extends Error {
  override readonly name = 'UnhandleableEventError';
  readonly isRetryable = false;
}

/** A stream's head as a batch takes it: whether its event was processed already, and whether more of its stream waits. */
type HeadRow = DeliveryRow & { processed: boolean; followed: boolean };

/** A handler's own error, with the delivery it failed on: that delivery alone records the failure. */
class HandlerFailure extends Error {
  constructor(
    readonly delivery: DeliveryRow,
    override readonly cause: unknown,
  ) {
    super('an event handler failed');
  }
}

/** A batch handler's error for a batch of several events: which event it failed on is not known. */
class BatchHandlerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('an event batch handler failed');
  }
}

const maximumErrorLength = 2_000;

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > maximumErrorLength ? `${text.slice(0, maximumErrorLength)}…` : text;
}

function isRetryable(error: unknown): boolean {
  return !(typeof error === 'object' && error !== null && 'isRetryable' in error && error.isRetryable === false);
}

/** An EntityManager of one tenant inside `transaction`. */
function tenantEntityManager(transaction: EntityManager, tenantId: string): EntityManager {
  const em = transaction.fork({ clear: true, keepTransactionContext: true });
  em.setFilterParams(tenantFilterName, { tenantId });
  return em;
}

/** 1 s, 2 s, 4 s … at most 5 minutes. */
export function defaultRetryDelayMs(attempt: number): number {
  return Math.min(1_000 * 2 ** (attempt - 1), 300_000);
}

/**
 * Runs a service's subscriptions: every event it subscribes to is handled at least once, in order
 * per entity, and recorded as processed in the handler's transaction, so its effect is had once.
 * Deliveries wait in PostgreSQL while the service is down; a delivery held by a process that died is
 * taken over (libs/jobs worker presence). A handler that keeps failing parks its event as a dead
 * letter; the entity's later events wait behind it until it is replayed or discarded, other
 * entities go on.
 */
export async function startEventConsumer(options: StartEventConsumerOptions): Promise<EventConsumer> {
  const { database, logger } = options;
  const consumerSchema = database.orm.config.get('schema');
  if (!consumerSchema) throw new Error('the consumer needs a service database (createDatabase) with a schema');
  const subscriber = checkSubscriber(options.subscriber ?? consumerSchema);
  const processedTable = `${quoteSchema(consumerSchema)}.processed_event`;
  const eventSchemaName = options.eventSchema ?? sharedEventSchema;
  const eventSchema = quoteSchema(eventSchemaName);
  const workerSchemaName = options.workerSchema ?? sharedWorkerSchema;
  const workerSchema = quotedWorkerSchema(workerSchemaName);
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  const batchSize = options.batchSize ?? 50;
  const batchesPerRun = options.batchesPerRun ?? 20;
  const concurrency = options.concurrency ?? 2;
  const subscriptions = new Map<string, AnySubscription>();
  for (const subscription of options.subscriptions) {
    if (subscriptions.has(subscription.definition.key)) throw new Error(`${subscriber} subscribes to ${subscription.definition.key} twice`);
    subscriptions.set(subscription.definition.key, subscription);
  }

  await migrateWorkerSchema({ databaseUrl: options.databaseUrl, workerSchema: workerSchemaName, logger });
  await migrateEventSchema({ database, eventSchema: eventSchemaName, logger });
  const fork = (): EntityManager => database.orm.em.fork({ clear: true });
  const [found] = await fork().execute<Array<{ table: string | null }>>(`select to_regclass(?) as table`, [processedTable]);
  if (!found?.table) throw new Error(`${processedTable} is missing: add CreateProcessedEvents (@gtm/events) to the service's migrations`);
  await declareSubscriptions();

  const deadLetters = createDeadLetters({ database, subscriber, eventSchema: eventSchemaName, workerSchema: workerSchemaName });
  const presence = createWorkerPresence({ databaseUrl: options.databaseUrl, quotedWorkerSchema: workerSchema, logger, lockGraceMs: options.lockGraceMs });
  const pool = createWorkerPool({ databaseUrl: options.databaseUrl, max: concurrency + 2, logger, name: `gtm-event-consumer:${subscriber}` });
  let stopping = false;

  async function declareSubscriptions(): Promise<void> {
    const declared = [...subscriptions.values()].map(({ definition }) => ({ name: definition.name, version: definition.version }));
    await fork().transactional(async (transaction) => {
      await transaction.execute(
        `delete from ${eventSchema}.subscription
         where subscriber = ? and (event_name, event_version) not in (select name, version from jsonb_to_recordset(?::jsonb) as declared(name text, version integer))`,
        [subscriber, JSON.stringify(declared)],
      );
      await transaction.execute(
        `insert into ${eventSchema}.subscription (subscriber, event_name, event_version)
         select ?, name, version from jsonb_to_recordset(?::jsonb) as declared(name text, version integer)
         on conflict do nothing`,
        [subscriber, JSON.stringify(declared)],
      );
    });
  }

  // Bookkeeping on the consumer's own connections; the service's pool serves requests and handlers.
  const onPool: SqlRunner = async (text, values) => (await pool.query(text, values)).rows;
  const schedule = (shard: number, at?: Date) => scheduleShards(onPool, workerSchema, [{ subscriber, shard }], at);

  /** Prunes old processed-event records; makes sure every shard with events waiting has a job (after jobs lost or given up by graphile-worker). */
  async function sweep(): Promise<void> {
    await pool.query(`delete from ${processedTable} where subscriber = $1 and processed_at < now() - make_interval(days => $2)`, [subscriber, options.processedRetentionDays ?? 30]);
    const { rows } = await pool.query<{ shard: number }>(`select distinct shard from ${eventSchema}.delivery where subscriber = $1 and parked_at is null`, [subscriber]);
    await scheduleShards(
      onPool,
      workerSchema,
      rows.map((row) => ({ subscriber, shard: Number(row.shard) })),
    );
    // And every shard's earliest retry its job (in case that job was lost): runs see retries only when scheduled for them.
    const retries = await pool.query<{ shard: number; at: string }>(
      `select shard, to_json(min(next_attempt_at)) #>> '{}' as at from ${eventSchema}.delivery
       where subscriber = $1 and parked_at is null and next_attempt_at > clock_timestamp() group by shard`,
      [subscriber],
    );
    for (const row of retries.rows) await schedule(Number(row.shard), new Date(row.at));
  }

  const stallAfterMs = options.stallAfterMs ?? 30_000;
  let behindReportedAt = 0;

  /**
   * Finds shards whose next events have waited, due, for longer than `stallAfterMs`, and why. A
   * shard with no job that will take them — none at all (a wake-up lost, a job given up), or only
   * one that graphile-worker holds back after failures or a retry's job set later — is logged at
   * warn and scheduled to run now: nothing else would look at it before the minute's sweep, or the
   * backoff, ends. A shard whose job is due but not taken by a worker for that long is only
   * reported, at most once a minute: the consumer is behind (busy or starved of CPU) or its
   * graphile-worker pool stopped; its job runs when a worker is free.
   */
  async function healStalledShards(): Promise<number> {
    const { rows } = await pool.query<{ shard: number; waiting: number; waited_ms: number; job: 'none' | 'held' | 'queued' | 'running'; queued_ms: number | null }>(
      `with stalled as (
         select delivery.shard, count(*)::integer as waiting,
           (extract(epoch from clock_timestamp() - min(coalesce(delivery.next_attempt_at, delivery.relayed_at))) * 1000)::float8 as waited_ms
         from ${eventSchema}.delivery
         where subscriber = $1 and parked_at is null
           and coalesce(next_attempt_at, relayed_at) < clock_timestamp() - make_interval(secs => $3)
           and not exists (select 1 from ${eventSchema}.delivery as earlier where earlier.subscriber = delivery.subscriber and earlier.stream = delivery.stream and earlier.id < delivery.id)
         group by delivery.shard
       )
       select stalled.*,
         case when bool_or(job.locked_at is not null) then 'running'
              when bool_or(job.attempts < job.max_attempts and job.run_at <= clock_timestamp()) then 'queued'
              when count(job.id) > 0 then 'held' else 'none' end as job,
         (extract(epoch from clock_timestamp() - min(job.run_at) filter (where job.locked_at is null and job.attempts < job.max_attempts and job.run_at <= clock_timestamp())) * 1000)::float8 as queued_ms
       from stalled
       left join ${workerSchema}._private_jobs as job
         on job.task_id = (select id from ${workerSchema}._private_tasks where identifier = $2) and (job.payload->>'shard')::integer = stalled.shard
       group by stalled.shard, stalled.waiting, stalled.waited_ms`,
      [subscriber, deliveryTaskOf(subscriber), stallAfterMs / 1000],
    );
    const orphaned = rows.filter((row) => row.job === 'none' || row.job === 'held');
    if (orphaned.length > 0) {
      logger.warn(
        { subscriber, shards: orphaned.map((row) => ({ shard: Number(row.shard), events: row.waiting, waitedMs: Math.round(row.waited_ms), job: row.job })) },
        'events waited with no job to take them (a wake-up lost, or a job held back by graphile-worker); scheduling their shards now',
      );
      await scheduleShards(
        onPool,
        workerSchema,
        orphaned.map((row) => ({ subscriber, shard: Number(row.shard) })),
      );
    }
    const behind = rows.filter((row) => row.job === 'queued' && row.queued_ms !== null && row.queued_ms > stallAfterMs);
    if (behind.length > 0 && Date.now() - behindReportedAt > 60_000) {
      behindReportedAt = Date.now();
      logger.warn(
        { subscriber, shards: behind.map((row) => ({ shard: Number(row.shard), events: row.waiting, waitedMs: Math.round(row.waited_ms), queuedMs: Math.round(row.queued_ms!) })) },
        'event shards have jobs due that no worker has taken: the consumer is behind (busy, or starved of CPU) or its worker pool stopped',
      );
    }
    return orphaned.length;
  }

  /**
   * The deliveries that are first in their stream (nothing older of the same entity waits, parked
   * or not), due, and not taken by another job (`skip locked`): each entity's next event, in
   * delivery order. Locked until the transaction ends.
   */
  const headsSql = `select ${deliveryColumns},
      exists (select 1 from ${processedTable} as processed where processed.subscriber = delivery.subscriber and processed.event_id = delivery.event_id) as processed,
      exists (select 1 from ${eventSchema}.delivery as later where later.subscriber = delivery.subscriber and later.stream = delivery.stream and later.id > delivery.id) as followed
    from ${eventSchema}.delivery
    where subscriber = ? and shard = ? and parked_at is null and (next_attempt_at is null or next_attempt_at <= clock_timestamp())
      and not exists (select 1 from ${eventSchema}.delivery as earlier where earlier.subscriber = delivery.subscriber and earlier.stream = delivery.stream and earlier.id < delivery.id)`;

  /** Records handled deliveries as processed and removes them, in one statement of the transaction. */
  async function settle(transaction: EntityManager, rows: HeadRow[]): Promise<void> {
    // The record's key refuses a second run of an event that committed meanwhile: the transaction
    // then rolls back, the handlers' effects with it.
    const fresh = rows.filter((row) => !row.processed).map((row) => ({ event_id: row.event_id, event_name: row.event_name, tenant_id: row.tenant_id }));
    await transaction.execute(
      `with handled as (delete from ${eventSchema}.delivery where id in (select jsonb_array_elements_text(?::jsonb)::bigint))
       insert into ${processedTable} (subscriber, event_id, event_name, tenant_id)
       select ?, event_id, event_name, tenant_id from jsonb_to_recordset(?::jsonb) as handled(event_id uuid, event_name text, tenant_id uuid)`,
      [JSON.stringify(rows.map((row) => row.id)), subscriber, JSON.stringify(fresh)],
    );
  }

  /** The subscription a delivery is for and its event, its data checked; throws for an event no retry can help. */
  function prepare(row: DeliveryRow): { subscription: AnySubscription; event: DomainEvent } {
    const event = eventOfDelivery(row);
    const subscription = subscriptions.get(`${event.name}@${event.version}`);
    if (!subscription) throw new UnhandleableEventError(`${subscriber} has no handler for ${event.name}@${event.version} any more`);
    const parsed = subscription.definition.schema.safeParse(event.data);
    if (!parsed.success) throw new UnhandleableEventError(`the event's data does not match ${subscription.definition.key}: ${parsed.error.message}`);
    return { subscription, event: { ...event, data: parsed.data } };
  }

  /**
   * Runs the handlers of a round's deliveries (at most one per entity, in delivery order) in
   * `transaction`: a per-event subscription's handler for each of its events, a batch
   * subscription's handler once for each tenant's events of it. Deliveries processed already are
   * skipped. A failing handler throws a HandlerFailure naming its delivery, or a
   * BatchHandlerFailure when a batch of several failed (which of them is unknown).
   */
  async function handleRound(transaction: EntityManager, rows: HeadRow[], signal: AbortSignal): Promise<void> {
    type Batch = { subscription: BatchSubscription; tenantId: string; rows: HeadRow[]; events: DomainEvent[] };
    const batches = new Map<string, Batch>();
    for (const row of rows) {
      if (row.processed) continue;
      let prepared: ReturnType<typeof prepare>;
      try {
        prepared = prepare(row);
      } catch (error) {
        throw new HandlerFailure(row, error);
      }
      const { subscription, event } = prepared;
      if (isBatchSubscription(subscription)) {
        const key = `${subscription.definition.key} ${event.tenantId}`;
        const batch: Batch = batches.get(key) ?? { subscription, tenantId: event.tenantId, rows: [], events: [] };
        batch.rows.push(row);
        batch.events.push(event);
        batches.set(key, batch);
        continue;
      }
      try {
        const eventLogger = logger.child({ subscriber, eventId: event.id, event: subscription.definition.key, tenantId: event.tenantId, requestId: event.requestId });
        const em = tenantEntityManager(transaction, event.tenantId);
        await subscription.handle(event, { em, logger: eventLogger, attempt: Number(row.attempts) + 1, signal });
        await em.flush();
      } catch (error) {
        throw new HandlerFailure(row, error);
      }
    }
    for (const batch of batches.values()) {
      try {
        const batchLogger = logger.child({ subscriber, event: batch.subscription.definition.key, tenantId: batch.tenantId, events: batch.events.length });
        const em = tenantEntityManager(transaction, batch.tenantId);
        const attempt = Math.max(...batch.rows.map((row) => Number(row.attempts))) + 1;
        await batch.subscription.handleBatch(batch.events, { em, tenantId: batch.tenantId, logger: batchLogger, attempt, signal });
        await em.flush();
      } catch (error) {
        throw batch.rows.length === 1 ? new HandlerFailure(batch.rows[0]!, error) : new BatchHandlerFailure(error);
      }
    }
  }

  /**
   * Handles up to `batchSize` deliveries of a shard in one transaction, in rounds: the heads, then
   * (their deliveries removed within the transaction) the heads that follow them, and so on until
   * the batch is full or no head is left, so an entity with several events waiting has them all in
   * one transaction, in order. The job ends only after a transaction that found no head at all. A handler that throws rolls the batch back and its delivery alone records the failure
   * (then not due, its entity's later events wait behind it); the job then takes the batch again
   * without it. Any other failure (a batch handler's for several events, the database, a record's
   * key) sends the batch's deliveries one at a time. Deliveries already retried are always handled
   * alone.
   */
  async function handleBatch(shard: number, signal: AbortSignal): Promise<{ alone: string[]; emptied: boolean; failed: boolean }> {
    const taken: HeadRow[] = [];
    try {
      return await fork().transactional(async (transaction) => {
        let handled = 0;
        while (handled < batchSize) {
          const asked = batchSize - handled;
          const rows = await transaction.execute<HeadRow[]>(`${headsSql} order by delivery.id limit ? for update of delivery skip locked`, [subscriber, shard, asked]);
          // Only a transaction that found nothing at all ends the job: events relayed behind this
          // batch's heads become heads at its commit, after any other job of the shard looked.
          if (rows.length === 0) return { alone: [], emptied: taken.length === 0, failed: false };
          taken.push(...rows);
          const batch = rows.filter((row) => Number(row.attempts) === 0);
          await handleRound(transaction, batch, signal);
          if (batch.length > 0) await settle(transaction, batch);
          handled += batch.length;
          // Retried deliveries stay locked by this transaction, unsettled: a next round would take
          // them again. They go alone once it commits.
          const alone = rows.filter((row) => Number(row.attempts) > 0).map((row) => row.id);
          if (alone.length > 0) return { alone, emptied: false, failed: false };
          // Fewer heads than asked for and none of them followed by another event: another round
          // would find none; the job's next transaction looks again once this one has committed.
          if (rows.length < asked && !rows.some((row) => row.followed)) return { alone: [], emptied: false, failed: false };
        }
        return { alone: [], emptied: false, failed: false };
      });
    } catch (error) {
      // Before any handler: the database itself failed; graphile-worker retries the job.
      if (taken.length === 0) throw error;
      if (error instanceof HandlerFailure) {
        // Stopped mid-handler: not the event's fault, so no attempt is used; handled again later.
        if (signal.aborted) return { alone: [], emptied: false, failed: false };
        await recordFailure(error.delivery, error.cause);
        return { alone: [], emptied: false, failed: true };
      }
      // A batch handler failed on one of its events, or the database on something: each
      // delivery then goes alone, in the order taken (heads first), so only a failing one
      // records its failure.
      if (error instanceof BatchHandlerFailure && signal.aborted) return { alone: [], emptied: false, failed: false };
      return { alone: taken.map((row) => row.id), emptied: false, failed: false };
    }
  }

  /** Handles one delivery in its own transaction, if it is still its stream's head and due. */
  async function handleAlone(shard: number, id: string, signal: AbortSignal): Promise<void> {
    let taken: DeliveryRow | null = null;
    try {
      await fork().transactional(async (transaction) => {
        const [row] = await transaction.execute<HeadRow[]>(`${headsSql} and delivery.id = ?::bigint for update of delivery skip locked`, [
          subscriber,
          shard,
          id,
        ]);
        if (!row) return;
        taken = row;
        await handleRound(transaction, [row], signal);
        await settle(transaction, [row]);
      });
    } catch (error) {
      const delivery = taken as DeliveryRow | null;
      if (!delivery) throw error;
      // Stopped mid-handler: not the event's fault, so no attempt is used; handled again later.
      if (signal.aborted) return;
      await recordFailure(delivery, error instanceof HandlerFailure ? error.cause : error);
    }
  }

  async function recordFailure(delivery: DeliveryRow, error: unknown): Promise<void> {
    const attempt = Number(delivery.attempts) + 1;
    const park = !isRetryable(error) || attempt >= maxAttempts;
    const at = new Date(Date.now() + retryDelayMs(attempt));
    await fork().execute(
      `update ${eventSchema}.delivery
       set attempts = ?, last_error = ?, last_failed_at = clock_timestamp(), parked_at = ?::timestamptz, next_attempt_at = ?::timestamptz
       where id = ?`,
      [attempt, describeError(error), park ? new Date().toISOString() : null, park ? null : at.toISOString(), delivery.id],
    );
    const event = eventOfDelivery(delivery);
    const fields = { err: error, subscriber, eventId: event.id, event: `${event.name}@${event.version}`, tenantId: event.tenantId, requestId: event.requestId, entity: event.entity, attempt };
    if (park) logger.error(fields, `parked the event as a dead letter after ${attempt} attempt(s); the entity's later events wait until it is replayed or discarded`);
    else logger.warn({ ...fields, retryAt: at }, 'an event handler failed; retrying later');
  }

  /** When the shard's next delayed retry is due, if it has one. */
  async function nextRetryAt(shard: number): Promise<Date | null> {
    const { rows } = await pool.query<{ at: string | null }>(
      `select to_json(min(next_attempt_at)) #>> '{}' as at from ${eventSchema}.delivery where subscriber = $1 and shard = $2 and parked_at is null and next_attempt_at > clock_timestamp()`,
      [subscriber, shard],
    );
    return rows[0]?.at ? new Date(rows[0].at) : null;
  }

  async function drain(payload: unknown, helpers: JobHelpers): Promise<void> {
    const job = payload as Partial<DeliveryJobPayload> | null;
    const shard = Number(job?.shard);
    if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) throw new Error('a delivery job needs { shard } as payload');
    // The pool is announced before any of its jobs does work, so a live pool is never taken for dead.
    await presence.settled();
    // Whether this run may have changed when the shard's next retry is due: only then is it looked
    // up (a round trip most runs, which only see new events, are spared).
    let retriesTouched = job?.retry === true;
    for (let batches = 0; ; batches += 1) {
      if (stopping || helpers.abortSignal.aborted || batches >= batchesPerRun) {
        await schedule(shard);
        if (!retriesTouched) return;
        break;
      }
      const { alone, emptied, failed } = await handleBatch(shard, helpers.abortSignal);
      if (failed || alone.length > 0) retriesTouched = true;
      for (const id of alone) {
        if (helpers.abortSignal.aborted) break;
        await handleAlone(shard, id, helpers.abortSignal);
      }
      if (emptied) break;
    }
    if (!retriesTouched) return;
    const retryAt = await nextRetryAt(shard);
    if (retryAt) await schedule(shard, retryAt);
  }

  const events: WorkerEvents = new EventEmitter();
  events.on('pool:create', ({ workerPool }) => {
    presence.announce(workerPool.id).catch((error: unknown) => logger.error({ err: error }, 'could not announce the event consumer'));
  });
  let runner: Runner;
  try {
    runner = await run({
      pgPool: pool,
      schema: workerSchemaName,
      concurrency,
      pollInterval: options.pollIntervalMs ?? 1_000,
      noHandleSignals: true,
      gracefulShutdownAbortTimeout: options.shutdownAbortAfterMs ?? 5_000,
      taskList: { [deliveryTaskOf(subscriber)]: drain },
      // Fetching a few jobs at a time saves a round trip per job at high rates; a killed process's
      // fetched jobs are taken over like its running ones. Jobs are completed one by one, not in
      // batches: a batch deletes several job rows while a relay's add_jobs updates several of the
      // same shards' rows, in another order, and the deadlock that follows is fatal to
      // graphile-worker's pool (measured: the consumer stopped at 1,000 events/s).
      preset: { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: -1 } },
      events,
      logger: createGraphileLogger(logger),
    });
  } catch (error) {
    await presence.close();
    await pool.end();
    throw error;
  }

  const recover = async () => (await presence.releaseJobsOfDeadWorkers()).length;
  const stallCheckTimer = setInterval(() => {
    healStalledShards().catch((error: unknown) => logger.warn({ err: error }, 'could not look for event shards that stalled'));
  }, options.stallCheckIntervalMs ?? 5_000);
  stallCheckTimer.unref();
  await recover();
  await sweep();
  const recoveryTimer = setInterval(() => {
    recover().catch((error: unknown) => logger.warn({ err: error }, 'could not look for deliveries of dead consumers'));
  }, options.recoveryIntervalMs ?? 10_000);
  recoveryTimer.unref();
  const sweepTimer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn({ err: error }, 'could not look for event shards without a job, or prune processed events'));
  }, options.sweepIntervalMs ?? 60_000);
  sweepTimer.unref();
  logger.info({ subscriber, events: [...subscriptions.keys()], concurrency }, 'event consumer started');

  return {
    subscriber,
    deadLetters,
    recoverNow: recover,
    async close() {
      if (stopping) return;
      stopping = true;
      clearInterval(recoveryTimer);
      clearInterval(sweepTimer);
      clearInterval(stallCheckTimer);
      await runner.stop();
      // graphile-worker completes a finished job without waiting for it: what is still locked by
      // this process's pools is unlocked now rather than by another consumer's recovery.
      await presence.releaseOwnJobs([]).catch((error: unknown) => logger.warn({ err: error }, 'could not unlock the stopped consumer; recovery will'));
      await presence.close();
      await pool.end();
    },
  };
}
