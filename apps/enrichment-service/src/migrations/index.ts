import type { MigrationObject } from '@mikro-orm/core';
import { CreateEventOutbox, EventOutboxForManyEntities } from '@gtm/events';
import { CreateJobTables } from '@gtm/jobs';
import { CreateEnrichmentJobs } from './20261122000000-create-enrichment-jobs.js';
import { CreateDataSourceCatalog } from './20261123000000-create-data-source-catalog.js';
import { EnrichmentJobsAreJobs } from './20261123000000-enrichment-jobs-are-jobs.js';
import { CreateEnrichmentRecords } from './20261123000100-create-enrichment-records.js';
import { EnrichmentPipeline } from './20261204000000-enrichment-pipeline.js';
import { EnrichmentFiles } from './20261204100000-enrichment-files.js';
import { LeadListReading } from './20261204200000-lead-list-reading.js';

/** Every migration of the enrichment schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261122000000-create-enrichment-jobs', class: CreateEnrichmentJobs },
  { name: '20261122235900-create-job-tables', class: CreateJobTables },
  { name: '20261123000000-create-data-source-catalog', class: CreateDataSourceCatalog },
  { name: '20261123000000-enrichment-jobs-are-jobs', class: EnrichmentJobsAreJobs },
  { name: '20261123000100-create-enrichment-records', class: CreateEnrichmentRecords },
  { name: '20261204000000-enrichment-pipeline', class: EnrichmentPipeline },
  { name: '20261204100000-enrichment-files', class: EnrichmentFiles },
  { name: '20261204100100-create-event-outbox', class: CreateEventOutbox },
  { name: '20261204200000-lead-list-reading', class: LeadListReading },
  { name: '20261204300100-event-outbox-for-many-entities', class: EventOutboxForManyEntities },
];
