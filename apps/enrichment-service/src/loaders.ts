import { createEntityLoader, type EntityManager } from '@gtm/runtime';
import { EnrichmentJob } from './enrichment-job/enrichment-job.entity.js';

export function createEnrichmentLoaders(em: EntityManager) {
  return {
    enrichmentJobById: createEntityLoader(em, EnrichmentJob),
  };
}

export type EnrichmentLoaders = ReturnType<typeof createEnrichmentLoaders>;
