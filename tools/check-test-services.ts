// `npm test`'s first step. The tests run against a real PostgreSQL and a real Redis (where
// libs/testing's testEnvironment says: TEST_DATABASE_URL, TEST_REDIS_URL, or the machine's own);
// when one does not answer, this stops the run at once with one line saying what is missing and
// how to get it, instead of minutes later with hundreds of failed tests.
import { Redis } from 'ioredis';
import pg from 'pg';
import { testEnvironment } from '../libs/testing/src/test-environment.ts';

const timeoutMs = 3_000;

function shown(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() || 'no answer';
}

async function checkPostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${shown(url)} (TEST_DATABASE_URL) does not answer (${reason(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The connection's own error (ECONNREFUSED …) says more than the "Connection is closed" connect() rejects with.
  let connectionError: unknown;
  redis.on('error', (error) => (connectionError = error));
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${shown(url)} (TEST_REDIS_URL) does not answer (${reason(connectionError ?? error)})`;
  } finally {
    redis.disconnect();
  }
}

const problems = (await Promise.all([checkPostgres(testEnvironment.databaseUrl), checkRedis(testEnvironment.redisUrl)])).filter(Boolean);
if (problems.length > 0) {
  process.stderr.write(
    `npm test needs a running PostgreSQL and Redis: ${problems.join('; ')}. Start what is missing (Debian: sudo apt-get install postgresql redis-server, ` +
      'then sudo pg_ctlcluster <version> main start and redis-server --daemonize yes), point TEST_DATABASE_URL / TEST_REDIS_URL at running ones, ' +
      'or run .ci/run, which installs and starts them.\n',
  );
  process.exit(1);
}
