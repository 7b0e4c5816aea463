import type { MigrationObject } from '@mikro-orm/core';
import { CreateTenantsAndApiKeys } from './20261121010000-create-tenants-and-api-keys.js';

/** Every migration of the gateway's schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [{ name: '20261121010000-create-tenants-and-api-keys', class: CreateTenantsAndApiKeys }];
