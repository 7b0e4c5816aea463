import { randomBytes } from 'node:crypto';
import { createTestCallerKeys, type TestCallerKeys } from './callers.js';
import { createTestDatabase, testEnvironment, type TestDatabase } from './test-environment.js';

export interface SubgraphTestSetup {
  /** Environment variables for a subgraph's loadConfig: its own database, real Redis, port 0. */
  environment: Record<string, string>;
  callerKeys: TestCallerKeys;
  database: TestDatabase;
  dispose(): Promise<void>;
}

/** Everything a service test needs to start one subgraph for real. */
export async function createSubgraphTestSetup(): Promise<SubgraphTestSetup> {
  const [database, callerKeys] = await Promise.all([createTestDatabase(), createTestCallerKeys()]);
  return {
    environment: {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: '4',
      REDIS_URL: testEnvironment.redisUrl,
      CALLER_TOKEN_PUBLIC_KEY: callerKeys.keys.publicKeyPem,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
      SHUTDOWN_GRACE_MS: '1000',
    },
    callerKeys,
    database,
    dispose: () => database.drop(),
  };
}
