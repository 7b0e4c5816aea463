import { randomUUID } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { Job, jobEntities } from '@gtm/jobs';
import { createDatabase, createLogger } from '@gtm/runtime';
import { createTestDatabase } from '@gtm/testing';
import { CampaignAsset, CampaignAssetVersion, CampaignCorrection } from '../campaign-asset/campaign-asset.entity.js';
import { CampaignJob } from '../campaign-job/campaign-job.entity.js';
import { Campaign } from '../campaign/campaign.entity.js';
import { migrations } from './index.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const entities = [Campaign, CampaignAsset, CampaignAssetVersion, CampaignCorrection, ...jobEntities, CampaignJob];

it('keeps every generateCampaign job made before jobs moved to the shared job table; one left running reads FAILED', async () => {
  await using testDatabase = await createTestDatabase();
  const before = await createDatabase({ url: testDatabase.url, schema: 'campaign', entities, migrations: migrations.slice(0, 2), logger, poolMax: 1 });
  await before.migrate();
  const tenantId = randomUUID();
  const campaignId = randomUUID();
  const [succeeded, interrupted] = [randomUUID(), randomUUID()];
  const connection = before.orm.em.getConnection();
  await connection.execute(`insert into campaign.campaign (id, tenant_id, name, website_url, created_at, updated_at) values (?, ?, 'Acme', 'https://acme.example', now(), now())`, [campaignId, tenantId]);
  await connection.execute(
    `insert into campaign.campaign_job (id, tenant_id, campaign_id, kinds, status, total, completed, failed, message, error, started_at, finished_at, created_at, updated_at)
     values (?, ?, ?, '["PRODUCT_OVERVIEW"]', 'SUCCEEDED', 1, 1, 0, 'Built PRODUCT_OVERVIEW.', null, now(), now(), '2026-11-01T00:00:00Z', now()),
            (?, ?, ?, '["TARGET_COMPANY"]', 'RUNNING', 2, 1, 0, 'Building TARGET_COMPANY (2 of 2).', null, now(), null, '2026-11-02T00:00:00Z', '2026-11-02T00:01:00Z')`,
    [succeeded, tenantId, campaignId, interrupted, tenantId, campaignId],
  );
  await before.close();

  const after = await createDatabase({ url: testDatabase.url, schema: 'campaign', entities, migrations, logger, poolMax: 1 });
  await after.migrate();
  const em = after.forkForTenant(tenantId);
  const done = await em.findOneOrFail(CampaignJob, { id: succeeded }, { populate: ['website'] });
  expect(done).toMatchObject({ campaignId, kinds: ['PRODUCT_OVERVIEW'], kind: 'campaign-generation', status: 'SUCCEEDED', total: 1, completed: 1, message: 'Built PRODUCT_OVERVIEW.', steps: [], website: null });
  expect(done).toMatchObject({ subjectType: 'Campaign', subjectId: campaignId });
  expect(done.createdAt.toISOString()).toBe('2026-11-01T00:00:00.000Z');
  const stopped = await em.findOneOrFail(CampaignJob, { id: interrupted });
  expect(stopped).toMatchObject({ status: 'FAILED', completed: 1, message: 'The service stopped before this job finished. Run generateCampaign again: assets already built are kept.' });
  expect(stopped.finishedAt?.toISOString()).toBe('2026-11-02T00:01:00.000Z');
  expect(await em.count(Job, {})).toBe(2);
  // Another tenant sees neither.
  expect(await after.forkForTenant(randomUUID()).count(CampaignJob, {})).toBe(0);
  await after.close();
});
