// How deliveries meet graphile-worker: one task name per subscriber (a worker fetches only its
// own), one job per stream of a subscriber (its key), which handles that stream's deliveries.
import type { EntityManager } from '@gtm/runtime';

const subscriberPattern = /^[a-z][a-z0-9_-]{0,62}$/;

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
  stream: string;
}

export interface StreamOfSubscriber {
  subscriber: string;
  stream: string;
}

/**
 * Makes sure a job will handle each of these streams: one job per stream and subscriber (its job
 * key), so a stream's events are taken in order by whoever runs it. A job waiting for a retry keeps
 * its time (`preserve_run_at`): new events of a failing entity do not hurry its backoff. A job
 * already running gets a successor, which finds whatever it left.
 */
export async function scheduleStreams(run: SqlRunner, quotedWorkerSchema: string, streams: readonly StreamOfSubscriber[], runAt?: Date): Promise<void> {
  if (streams.length === 0) return;
  await run(
    `select count(*) from ${quotedWorkerSchema}.add_jobs(array(
       select ('gtm_events:' || item.subscriber, json_build_object('stream', item.stream), null, $1::timestamptz, null,
               'gtm_events:' || item.subscriber || ':' || item.stream, null, null)::${quotedWorkerSchema}.job_spec
       from jsonb_to_recordset($2::jsonb) as item(subscriber text, stream text)
     ), true)`,
    [runAt?.toISOString() ?? null, JSON.stringify(streams)],
  );
}

/** Runs one statement with `$1, $2, …` parameters (each once, in order) on some connection. */
export type SqlRunner = (text: string, values: unknown[]) => Promise<unknown>;

/** A runner on an EntityManager (and its transaction, if it is in one). */
export function sqlRunnerOf(em: EntityManager): SqlRunner {
  return (text, values) => em.execute(text.replace(/\$\d+/g, '?'), values);
}
