import type { Logger } from '@gtm/runtime';
import { runMigrations } from 'graphile-worker';
import { createGraphileLogger } from './graphile-logger.js';
import { createWorkerPool } from './worker-pool.js';

/** graphile-worker's schema, shared by every service of a database (decision 0018). */
export const sharedWorkerSchema = 'gtm_worker';

const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name, checked, as an SQL identifier. */
export function quotedWorkerSchema(workerSchema: string): string {
  if (!schemaNamePattern.test(workerSchema)) throw new Error(`workerSchema must be a lower-case SQL identifier; got "${workerSchema}"`);
  return `"${workerSchema}"`;
}

/**
 * Creates or updates graphile-worker's schema. Every service of a database calls this at start, for
 * jobs or for domain events: one migrates while the others wait on an advisory lock, then find
 * nothing to do (instead of each racing through every migration and the server logging every lost
 * race as an error).
 */
export async function migrateWorkerSchema(options: { databaseUrl: string; workerSchema?: string; logger: Logger }): Promise<void> {
  const { logger } = options;
  const workerSchemaName = options.workerSchema ?? sharedWorkerSchema;
  const workerSchema = quotedWorkerSchema(workerSchemaName);
  const pool = createWorkerPool({ databaseUrl: options.databaseUrl, max: 2, logger, name: 'gtm-job-queue-migrations' });
  const lockName = `gtm-job-queue-migrations:${workerSchemaName}`;
  try {
    const lockHolder = await pool.connect();
    try {
      await lockHolder.query('select pg_advisory_lock(hashtextextended($1, 0))', [lockName]);
      // graphile-worker finds out whether it is installed by reading its migrations table and
      // catching "relation does not exist", which PostgreSQL logs as an ERROR on every first
      // start. Its bootstrap (schema and an empty table, as in its docs/schema.md) is made here
      // first when missing, so the first read finds an empty table and runs every migration.
      const installed = await lockHolder.query<{ table: string | null }>('select to_regclass($1) as table', [`${workerSchema}.migrations`]);
      if (installed.rows[0]?.table === null) {
        await lockHolder.query(
          `create schema if not exists ${workerSchema};
           create table if not exists ${workerSchema}.migrations(id int primary key, ts timestamptz default now() not null, breaking boolean not null default false)`,
        );
      }
      await runMigrations({ pgPool: pool, schema: workerSchemaName, logger: createGraphileLogger(logger) });
    } finally {
      await lockHolder.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lockName]).catch(() => undefined);
      lockHolder.release();
    }
  } finally {
    await pool.end();
  }
}
