import type { MigrationObject } from '@mikro-orm/core';
import { CreateEnrichmentJobs } from './20261122000000-create-enrichment-jobs.js';
import { CreateDataSourceCatalog } from './20261123000000-create-data-source-catalog.js';

/** Every migration of the enrichment schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261122000000-create-enrichment-jobs', class: CreateEnrichmentJobs },
  { name: '20261123000000-create-data-source-catalog', class: CreateDataSourceCatalog },
];
