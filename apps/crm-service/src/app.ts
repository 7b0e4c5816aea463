import { attachEventRelay } from '@gtm/events';
import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { Company } from './company/company.entity.js';
import { CompanyResolver } from './company/company.resolver.js';
import { CompanyService } from './company/company.service.js';
import type { CrmConfig } from './config.js';
import { Lead } from './lead/lead.entity.js';
import { LeadResolver } from './lead/lead.resolver.js';
import { LeadService } from './lead/lead.service.js';
import { createCrmLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildCrmSchema } from './schema.js';

export interface CrmAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
}

/**
 * The composition root of the CRM service: builds its services and resolvers, starts it, then the
 * relay that delivers the lead events it publishes (its outbox) to the services that subscribe.
 */
export async function createApp(config: CrmConfig, overrides: CrmAppOverrides = {}): Promise<SubgraphApp> {
  const leadService = new LeadService();
  const companyService = new CompanyService();
  const resolvers = new Map<Function, object>([
    [LeadResolver, new LeadResolver(leadService)],
    [CompanyResolver, new CompanyResolver(companyService)],
  ]);
  const app = await startSubgraphApp({
    name: 'crm-service',
    config,
    entities: [Lead, Company],
    migrations,
    buildSchema: () => buildCrmSchema({ get: (resolverClass) => resolvers.get(resolverClass) }),
    createLoaders: createCrmLoaders,
    ...overrides,
  });
  return attachEventRelay(app, { databaseUrl: config.DATABASE_URL });
}
