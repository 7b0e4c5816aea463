import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Where tests find PostgreSQL and Redis. Real servers, never mocks: the machine's own by default,
 * or any other through TEST_DATABASE_URL / TEST_REDIS_URL. The one place tests read the environment.
 */
export const testEnvironment = {
  databaseUrl: process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  /** The browser tests' Chromium, as in CHROMIUM_PATH. Default: /usr/bin/chromium when installed, else the packaged one. */
  chromiumPath: process.env['CHROMIUM_PATH'],
};

export interface TestDatabase extends AsyncDisposable {
  /** postgres:// URL of a database no other test file uses. */
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database for one test file, so test files can run in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `gtm_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testEnvironment.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(testEnvironment.databaseUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    const client = new pg.Client({ connectionString: testEnvironment.databaseUrl });
    await client.connect();
    try {
      await client.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await client.end();
    }
  };
  return { url: url.toString(), drop, [Symbol.asyncDispose]: drop };
}

/** A Redis key prefix no other test uses. */
export function uniqueRedisPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}
