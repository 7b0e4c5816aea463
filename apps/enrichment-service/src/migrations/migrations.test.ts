import { randomUUID } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { Job, jobEntities } from '@gtm/jobs';
import { createDatabase, createLogger } from '@gtm/runtime';
import { createTestDatabase } from '@gtm/testing';
import { EnrichmentJob } from '../enrichment-job/enrichment-job.entity.js';
import { EnrichmentRecord } from '../enrichment-record/enrichment-record.entity.js';
import { migrations } from './index.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const entities = [...jobEntities, EnrichmentJob, EnrichmentRecord];

it('keeps every enrichment job made before jobs moved to the shared job table, with its status and counts', async () => {
  await using testDatabase = await createTestDatabase();
  const before = await createDatabase({ url: testDatabase.url, schema: 'enrichment', entities, migrations: migrations.slice(0, 1), logger, poolMax: 1 });
  await before.migrate();
  const tenantId = randomUUID();
  const jobId = randomUUID();
  await before.orm.em.getConnection().execute(
    `insert into enrichment.enrichment_job (id, tenant_id, name, status, total, completed, failed, message, error, started_at, finished_at, created_at, updated_at)
     values (?, ?, 'dealers.csv', 'CANCELLED', 10, 4, 1, 'Stopped by a user', 'internal', now(), now(), '2026-11-01T00:00:00Z', now())`,
    [jobId, tenantId],
  );
  await before.close();

  const after = await createDatabase({ url: testDatabase.url, schema: 'enrichment', entities, migrations, logger, poolMax: 1 });
  await after.migrate();
  const job = await after.forkForTenant(tenantId).findOneOrFail(EnrichmentJob, { id: jobId });
  expect(job).toMatchObject({ name: 'dealers.csv', kind: 'enrichment', status: 'CANCELLED', total: 10, completed: 4, failed: 1, message: 'Stopped by a user', error: 'internal' });
  expect(job.createdAt.toISOString()).toBe('2026-11-01T00:00:00.000Z');
  expect(job.subjectType).toBe('EnrichmentJob');
  expect(job.subjectId).toBe(jobId);
  expect(await after.forkForTenant(tenantId).count(Job, {})).toBe(1);
  await after.close();
});
