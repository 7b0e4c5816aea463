import { createEntityLoader, type EntityManager } from '@gtm/runtime';
import type { DataSource } from './data-source/data-source.entity.js';
import { readDataSourceCatalog } from './data-source/data-source.service.js';
import { EnrichmentJob } from './enrichment-job/enrichment-job.entity.js';

export function createEnrichmentLoaders(em: EntityManager) {
  let catalog: Promise<DataSource[]> | undefined;
  return {
    enrichmentJobById: createEntityLoader(em, EnrichmentJob),
    /** The data-source catalog, read at most once per request. */
    dataSourceCatalog: (): Promise<DataSource[]> => (catalog ??= readDataSourceCatalog(em)),
  };
}

export type EnrichmentLoaders = ReturnType<typeof createEnrichmentLoaders>;
