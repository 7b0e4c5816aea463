import { CreateEventOutbox } from '@gtm/events';
import type { MigrationObject } from '@mikro-orm/core';
import { CreateLeadsAndCompanies } from './20261121000000-create-leads-and-companies.js';

/** Every migration of the CRM schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261121000000-create-leads-and-companies', class: CreateLeadsAndCompanies },
  { name: '20261204000000-create-event-outbox', class: CreateEventOutbox },
];
