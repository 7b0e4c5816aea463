import type { Logger } from '@gtm/runtime';
import pg from 'pg';

/**
 * A connection pool for graphile-worker that this library owns. Given a connection string,
 * graphile-worker makes its own pool, removes the pool's error listener when it stops and ends it
 * without waiting: a connection still closing when the database ends it (a restart, a dropped test
 * database) then raised an unhandled error. This pool keeps its listener for its whole life, and
 * `end()` is awaited.
 */
export function createWorkerPool(options: { databaseUrl: string; max: number; logger: Logger; name: string }): pg.Pool {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.max, application_name: options.name });
  pool.on('error', (error) => options.logger.warn({ err: error }, 'an idle job queue connection failed; it is replaced when next needed'));
  // A checked-out connection's error also reaches whoever uses it, as the failure of its query.
  pool.on('connect', (client) => client.on('error', (error) => options.logger.warn({ err: error }, 'a job queue connection failed while in use')));
  return pool;
}
