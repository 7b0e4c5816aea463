// How often the gateway reads a presented key from PostgreSQL: once for requests that arrive
// together, in the background for a key in steady use, and every time when caching is off.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, type Database } from '@gtm/runtime';
import { createTestDatabase, waitFor, type TestDatabase } from '@gtm/testing';
import { createApiKeyAuthenticator } from './api-key.authenticator.js';
import { openApiKeyRegistry, type ApiKeyRegistry } from './api-key.registry.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let registry: ApiKeyRegistry;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  registry = await openApiKeyRegistry({ databaseUrl: testDatabase.url, logger, poolMax: 4 });
});

afterAll(async () => {
  await registry?.close();
  await testDatabase?.drop();
});

/** The real database, counting the key lookups made through it. */
function countingLookups(database: Database) {
  const counted = { lookups: 0 };
  const fork = () => {
    const entityManager = database.orm.em.fork();
    const findOne = entityManager.findOne.bind(entityManager);
    entityManager.findOne = ((...options: Parameters<typeof findOne>) => {
      counted.lookups += 1;
      return findOne(...options);
    }) as typeof findOne;
    return entityManager;
  };
  return { counted, database: { orm: { em: { fork } } } as unknown as Database };
}

describe('the API-key authenticator', () => {
  it('reads a key once for the requests that find no cached lookup at the same moment', async () => {
    const { key, apiKey } = await registry.apiKeys.createKey({ tenant: 'together', tier: 'pro' });
    const { counted, database } = countingLookups(registry.database);
    const authenticator = createApiKeyAuthenticator({ database, logger });
    const answers = await Promise.all(Array.from({ length: 10 }, () => authenticator.authenticate(key)));
    expect(answers.map((answer) => answer?.keyId)).toEqual(Array.from({ length: 10 }, () => apiKey.id));
    expect(counted.lookups).toBe(1);
  });

  it('answers a key in use from its cached lookup past half the cache time and reads it again in the background, so a revocation is seen before the entry expires', async () => {
    const { key, apiKey } = await registry.apiKeys.createKey({ tenant: 'steady', tier: 'pro' });
    const { counted, database } = countingLookups(registry.database);
    let clock = 1_000_000;
    const authenticator = createApiKeyAuthenticator({ database, logger, cacheTtlMs: 4_000, now: () => clock });
    expect((await authenticator.authenticate(key))?.keyId).toBe(apiKey.id);
    await registry.apiKeys.revokeKey(apiKey.id);
    clock += 1_000;
    // Young entry: answered from the cache, nothing read.
    expect((await authenticator.authenticate(key))?.keyId).toBe(apiKey.id);
    expect(counted.lookups).toBe(1);
    clock += 1_500;
    // Past half its time: still answered from the cache (the request does not wait), read again behind it.
    expect((await authenticator.authenticate(key))?.keyId).toBe(apiKey.id);
    expect(counted.lookups).toBe(2);
    // The background read saw the revocation, 2.5 s into a 4 s cache time.
    await waitFor(async () => ((await authenticator.authenticate(key)) === null ? true : undefined), 5_000, 20);
    expect(clock - 1_000_000).toBeLessThan(4_000);
  });

  it('reads every time when the cache time is 0', async () => {
    const { key, apiKey } = await registry.apiKeys.createKey({ tenant: 'uncached', tier: 'pro' });
    const { counted, database } = countingLookups(registry.database);
    const authenticator = createApiKeyAuthenticator({ database, logger, cacheTtlMs: 0 });
    expect((await authenticator.authenticate(key))?.keyId).toBe(apiKey.id);
    expect((await authenticator.authenticate(key))?.keyId).toBe(apiKey.id);
    expect(counted.lookups).toBe(2);
    await registry.apiKeys.revokeKey(apiKey.id);
    expect(await authenticator.authenticate(key)).toBeNull();
  });
});
