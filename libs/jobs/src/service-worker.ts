import type { SubgraphApp } from '@gtm/runtime';
import type { AnyJobKind } from './job-kind.js';
import { startJobProgressRestorer } from './job-progress-restorer.js';
import { startJobWorker, type JobWorker, type StartJobWorkerOptions } from './job-worker.js';

export interface AttachJobWorkerOptions extends Pick<StartJobWorkerOptions, 'databaseUrl' | 'workerSchema' | 'pollIntervalMs' | 'shutdownAbortAfterMs' | 'tasks' | 'schedules'> {
  kinds: AnyJobKind[];
  /** Jobs the process runs at once (`JOB_WORKER_CONCURRENCY`); 0 starts no worker here. */
  concurrency: number;
}

/**
 * Starts the worker of a service's jobs beside its started app, on the app's database, Redis and
 * logger, with the restorer of their progress in Redis (`startJobProgressRestorer`), and returns
 * the app with a `close` that stops the worker first: running jobs go back to the queue before the
 * database they write to closes. A worker that cannot start closes the app.
 */
export async function attachJobWorker<App extends SubgraphApp>(app: App, options: AttachJobWorkerOptions): Promise<App & { worker: JobWorker | null }> {
  let worker: JobWorker | null = null;
  // Every process of the service, worker or not, puts back the progress Redis lost.
  const restorer = startJobProgressRestorer({ database: app.database, redis: app.redis, logger: app.logger });
  try {
    if (options.concurrency > 0) {
      worker = await startJobWorker({ ...options, database: app.database, redis: app.redis, logger: app.logger });
    }
  } catch (error) {
    restorer.stop();
    await app.close();
    throw error;
  }
  return {
    ...app,
    worker,
    async close() {
      restorer.stop();
      await worker?.close();
      await app.close();
    },
  };
}
