import { createEntityLoader, type EntityManager } from '@gtm/runtime';
import { Company } from './company/company.entity.js';
import { Lead } from './lead/lead.entity.js';

export function createCrmLoaders(em: EntityManager) {
  return {
    leadById: createEntityLoader(em, Lead),
    companyById: createEntityLoader(em, Company),
  };
}

export type CrmLoaders = ReturnType<typeof createCrmLoaders>;
