import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createLlmUsageReporter, createLogger, createRedis, llmUsageStreamKey, type Redis } from '@gtm/runtime';
import { createTestDatabase, testEnvironment, uniqueRedisPrefix, type TestDatabase } from '@gtm/testing';
import { openApiKeyRegistry, type ApiKeyRegistry } from '../api-key/api-key.registry.js';
import { createLlmUsageIngestor } from './llm-usage.ingestor.js';
import { LlmUsage } from './usage.entity.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let registry: ApiKeyRegistry;
let redis: Redis;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  registry = await openApiKeyRegistry({ databaseUrl: testDatabase.url, logger, poolMax: 2 });
  redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: uniqueRedisPrefix() });
  await redis.connect();
});

afterAll(async () => {
  redis?.disconnect();
  await registry?.close();
  await testDatabase?.drop();
});

it('takes over reports a gateway process read but died before storing, and stores each once', async () => {
  const tenantId = randomUUID();
  const reporter = createLlmUsageReporter({ redis, service: 'campaign', logger });
  const call = { task: 'positioning', provider: 'openai', model: 'gpt-4.1', inputTokens: 10, outputTokens: 5, costUsd: 0.0001, latencyMs: 50, cached: false, outcome: 'ok' };
  const first = createLlmUsageIngestor({ redis, database: registry.database, logger, claimAfterMs: 0 });
  await first.drain(); // creates the consumer group
  await first.close();
  await reporter.report({ tenantId }, { ...call, id: randomUUID() });
  await reporter.report({ tenantId }, { ...call, id: randomUUID() });
  // A process that read both entries and was killed before storing or acknowledging them.
  const delivered = await redis.xreadgroup('GROUP', 'gateway', 'killed-process', 'COUNT', 10, 'STREAMS', llmUsageStreamKey, '>');
  expect((delivered as unknown[][])[0]![1]).toHaveLength(2);

  const survivor = createLlmUsageIngestor({ redis, database: registry.database, logger, claimAfterMs: 0 });
  await survivor.drain();
  await survivor.drain();
  await survivor.close();

  const stored = await registry.database.orm.em.fork().find(LlmUsage, { tenantId });
  expect(stored).toHaveLength(2);
  const pending = (await redis.xpending(llmUsageStreamKey, 'gateway')) as [number, ...unknown[]];
  expect(pending[0]).toBe(0);
});
