import type { MigrationObject } from '@mikro-orm/core';
import { CreateCampaigns } from './20261122000000-create-campaigns.js';
import { CreateCampaignAssets } from './20261125000000-create-campaign-assets.js';

/** Every migration of the campaign schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261122000000-create-campaigns', class: CreateCampaigns },
  { name: '20261125000000-create-campaign-assets', class: CreateCampaignAssets },
];
