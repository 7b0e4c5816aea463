import type { MigrationObject } from '@mikro-orm/core';
import { CreateTenantsAndApiKeys } from './20261121010000-create-tenants-and-api-keys.js';
import { CreateUsage } from './20261121020000-create-usage.js';

/** Every migration of the gateway's schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261121010000-create-tenants-and-api-keys', class: CreateTenantsAndApiKeys },
  { name: '20261121020000-create-usage', class: CreateUsage },
];
