// The request usage recorder against the real PostgreSQL: what it buffers arrives as it was recorded.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createLogger } from '@gtm/runtime';
import { createTestDatabase, type TestDatabase } from '@gtm/testing';
import { openApiKeyRegistry, type ApiKeyRegistry } from '../api-key/api-key.registry.js';
import { createRequestUsageRecorder, type RequestUsageRecord } from './request-usage.recorder.js';
import { RequestUsage } from './usage.entity.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let registry: ApiKeyRegistry;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  registry = await openApiKeyRegistry({ databaseUrl: testDatabase.url, logger, poolMax: 2 });
});

afterAll(async () => {
  await registry?.close();
  await testDatabase?.drop();
});

it('writes every buffered record with its fields, in batches of the given size', async () => {
  const tenantId = randomUUID();
  const apiKeyId = randomUUID();
  const recorder = createRequestUsageRecorder({ database: registry.database, logger, batchSize: 2, flushIntervalMs: 60_000 });
  const records: RequestUsageRecord[] = [
    { tenantId, apiKeyId, requestId: 'first', operationName: 'Leads', operationType: 'query', outcome: 'OK', httpStatus: 200, durationMs: 12.5, at: new Date('2026-12-04T10:00:00.125Z') },
    { tenantId, apiKeyId, requestId: 'second', operationName: null, operationType: null, outcome: 'RATE_LIMITED', httpStatus: 429, durationMs: 0.75, at: new Date('2026-12-04T10:00:01Z') },
    { tenantId, apiKeyId, requestId: 'third', operationName: "it's \"quoted\"", operationType: 'mutation', outcome: 'BAD_USER_INPUT', httpStatus: 200, durationMs: 3, at: new Date('2026-12-04T10:00:02Z') },
  ];
  for (const record of records) recorder.record(record);
  await recorder.close();

  const stored = await registry.database.orm.em.fork().find(RequestUsage, { tenantId }, { orderBy: { at: 'asc' } });
  expect(stored.map(({ id: _id, ...fields }) => ({ ...fields }))).toEqual(records);
  expect(new Set(stored.map((usage) => usage.id)).size).toBe(3);
});
