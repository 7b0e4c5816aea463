import { CreateEventOutbox, EventOutboxForManyEntities, CreateProcessedEvents } from '@gtm/events';
import type { MigrationObject } from '@mikro-orm/core';
import { CreateJobTables } from '@gtm/jobs';
import { CreateLeadsAndCompanies } from './20261121000000-create-leads-and-companies.js';
import { CreateCrmSync } from './20261203000000-create-crm-sync.js';
import { CreateLeadLists } from './20261204000000-create-lead-lists.js';
import { CreateCrmPendingPush } from './20261204100000-create-crm-pending-push.js';
import { DropUnusedLeadIndexes } from './20261204200000-drop-unused-lead-indexes.js';
import { ListMembersWithoutForeignKeys } from './20261204300000-list-members-without-foreign-keys.js';
import { TimeOrderedUuid } from './20261204400000-time-ordered-uuid.js';
import { CompanyNameKeyWithoutCaptures } from './20261204500000-company-name-key-without-captures.js';
import { LeadEmailKey } from './20261204600000-lead-email-key.js';

/** Every migration of the CRM schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261121000000-create-leads-and-companies', class: CreateLeadsAndCompanies },
  { name: '20261202235900-create-job-tables', class: CreateJobTables },
  { name: '20261203000000-create-crm-sync', class: CreateCrmSync },
  { name: '20261204000000-create-event-outbox', class: CreateEventOutbox },
  { name: '20261208030000-create-processed-events', class: CreateProcessedEvents },
  { name: '20261204000000-create-lead-lists', class: CreateLeadLists },
  { name: '20261204100000-create-crm-pending-push', class: CreateCrmPendingPush },
  { name: '20261204200000-drop-unused-lead-indexes', class: DropUnusedLeadIndexes },
  { name: '20261204300000-list-members-without-foreign-keys', class: ListMembersWithoutForeignKeys },
  { name: '20261204300100-event-outbox-for-many-entities', class: EventOutboxForManyEntities },
  { name: '20261204400000-time-ordered-uuid', class: TimeOrderedUuid },
  { name: '20261204500000-company-name-key-without-captures', class: CompanyNameKeyWithoutCaptures },
  { name: '20261204600000-lead-email-key', class: LeadEmailKey },
];
