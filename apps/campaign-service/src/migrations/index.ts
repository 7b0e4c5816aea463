import type { MigrationObject } from '@mikro-orm/core';
import { CreateJobTables } from '@gtm/jobs';
import { CreateCampaigns } from './20261122000000-create-campaigns.js';
import { CreateCampaignAssets } from './20261125000000-create-campaign-assets.js';
import { CampaignJobsAreJobs } from './20261126000100-campaign-jobs-are-jobs.js';

/** Every migration of the campaign schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261122000000-create-campaigns', class: CreateCampaigns },
  { name: '20261125000000-create-campaign-assets', class: CreateCampaignAssets },
  { name: '20261126000000-create-job-tables', class: CreateJobTables },
  { name: '20261126000100-campaign-jobs-are-jobs', class: CampaignJobsAreJobs },
];
