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
 *
 * graphile-worker's `add_jobs` gives a locked job's key to a new job in one statement and upserts
 * in a later one; a job a worker locks between the two (a fetch committing meanwhile) is left as it
 * is and no job is added — the upsert only touches unlocked jobs. That job may already have looked
 * at its shard before the caller's deliveries commit, and then ends, leaving them without a job.
 * So every key `add_jobs` did not answer for is asked for again: by then the lock is visible to the
 * first statement, which hands the key on to a new job.
 */
export async function scheduleShards(run: SqlRunner, quotedWorkerSchema: string, shards: readonly ShardOfSubscriber[], runAt?: Date): Promise<void> {
  let waiting = [...new Map(shards.map((shard) => [jobKeyOf(shard, runAt), shard])).entries()];
  for (let attempt = 1; waiting.length > 0; attempt += 1) {
    if (attempt > maximumScheduleAttempts) throw new Error(`could not schedule event delivery jobs for ${waiting.map(([key]) => key).join(', ')}`);
    const scheduled = (await run(
      `select key from ${quotedWorkerSchema}.add_jobs(array(
         select ('gtm_events:' || item.subscriber, json_build_object('shard', item.shard, 'retry', $1::boolean), null, $2::timestamptz, null,
                 'gtm_events:' || item.subscriber || ':' || item.shard || $3::text, null, null)::${quotedWorkerSchema}.job_spec
         from jsonb_to_recordset($4::jsonb) as item(subscriber text, shard integer)
       ), false)`,
      [runAt !== undefined, runAt?.toISOString() ?? null, runAt ? ':retry' : '', JSON.stringify(waiting.map(([, shard]) => shard))],
    )) as Array<{ key: string | null }>;
    const answered = new Set(scheduled.map((row) => row.key));
    waiting = waiting.filter(([key]) => !answered.has(key));
  }
}

/** Each further attempt needs another worker to lock that very job between two statements. */
const maximumScheduleAttempts = 10;

/** The graphile-worker job key of a shard's job (its retry job's, with `runAt`). */
export function jobKeyOf(shard: ShardOfSubscriber, runAt?: Date): string {
  return `gtm_events:${shard.subscriber}:${shard.shard}${runAt ? ':retry' : ''}`;
}

/** Runs one statement with `$1, $2, …` parameters (each once, in order) on some connection; resolves with its rows. */
export type SqlRunner = (text: string, values: unknown[]) => Promise<unknown[]>;

/** A runner on an EntityManager (and its transaction, if it is in one). */
export function sqlRunnerOf(em: EntityManager): SqlRunner {
  return (text, values) => em.execute<unknown[]>(text.replace(/\$\d+/g, '?'), values);
}
