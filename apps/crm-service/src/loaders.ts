import { createEntityLoader, type EntityManager } from '@gtm/runtime';
import { Company } from './company/company.entity.js';
import { CrmConnection } from './crm-connection/crm-connection.entity.js';
import { Lead } from './lead/lead.entity.js';

export function createCrmLoaders(em: EntityManager) {
  return {
    leadById: createEntityLoader(em, Lead),
    companyById: createEntityLoader(em, Company),
    crmConnectionById: createEntityLoader(em, CrmConnection),
  };
}

export type CrmLoaders = ReturnType<typeof createCrmLoaders>;
