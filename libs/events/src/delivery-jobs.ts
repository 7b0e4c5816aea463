// How deliveries meet graphile-worker: one task name per subscriber (a worker fetches only its
// own), one job per shard of a subscriber's deliveries (its key). An entity's stream always falls in
// the same shard; a shard's job handles the oldest delivery of each of its streams, in batches.
import type { EntityManager } from '@gtm/runtime';

const subscriberPattern = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Shards per subscriber: how many jobs of one subscriber can run side by side. Fixed, since every
 * delivery row carries its shard; more than any consumer's concurrency needs.
 */
export const shardCount = 16;

/** The shard of a stream, in SQL: the relay writes it with each delivery. */
export function shardOfStreamSql(streamExpression: string): string {
  return `mod(abs(hashtext(${streamExpression})::bigint), ${shardCount})::smallint`;
}

/** Checks a subscriber name (a service's, by default its schema). */
export function checkSubscriber(subscriber: string): string {
  if (!subscriberPattern.test(subscriber)) throw new Error(`a subscriber name is lower case letters, digits, - and _; got "${subscriber}"`);
  return subscriber;
}

/** The graphile-worker task a subscriber's consumer runs. */
export function deliveryTaskOf(subscriber: string): string {
  return `gtm_events:${subscriber}`;
}

/** The payload of a delivery job. */
export interface DeliveryJobPayload {
  shard: number;
  /** Scheduled for the shard's earliest retry (not for new events). */
  retry?: boolean;
}

export interface ShardOfSubscriber {
  subscriber: string;
  shard: number;
}

/**
 * Makes sure a job will look at each of these shards: one job per shard and subscriber (its job
 * key). A job already running gets a successor, which finds whatever it left; two jobs of one shard
 * never take the same delivery. With `runAt` (the shard's earliest retry) the job has a key of its
 * own, set to that time: a retry's wait must never hold back the shard's new events, which are
 * scheduled to run now under the plain key (one key for both would keep the later of the two times
 * or move a waiting retry forward).
 */
export async function scheduleShards(run: SqlRunner, quotedWorkerSchema: string, shards: readonly ShardOfSubscriber[], runAt?: Date): Promise<void> {
  if (shards.length === 0) return;
  await run(
    `select count(*) from ${quotedWorkerSchema}.add_jobs(array(
       select ('gtm_events:' || item.subscriber, json_build_object('shard', item.shard, 'retry', $1::boolean), null, $2::timestamptz, null,
               'gtm_events:' || item.subscriber || ':' || item.shard || $3::text, null, null)::${quotedWorkerSchema}.job_spec
       from jsonb_to_recordset($4::jsonb) as item(subscriber text, shard integer)
     ), false)`,
    [runAt !== undefined, runAt?.toISOString() ?? null, runAt ? ':retry' : '', JSON.stringify(shards)],
  );
}

/** Runs one statement with `$1, $2, …` parameters (each once, in order) on some connection. */
export type SqlRunner = (text: string, values: unknown[]) => Promise<unknown>;

/** A runner on an EntityManager (and its transaction, if it is in one). */
export function sqlRunnerOf(em: EntityManager): SqlRunner {
  return (text, values) => em.execute(text.replace(/\$\d+/g, '?'), values);
}
