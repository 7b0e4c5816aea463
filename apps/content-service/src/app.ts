import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { CompanyWebsiteResolver } from './company/company.resolver.js';
import type { ContentConfig } from './config.js';
import { createContentLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildContentSchema } from './schema.js';
import { Website } from './website/website.entity.js';
import { WebsiteResolver } from './website/website.resolver.js';
import { WebsiteService } from './website/website.service.js';

export interface ContentAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
}

/** The services the app runs on, for in-process callers (tests, later the analysis jobs). */
export interface ContentServices {
  websites: WebsiteService;
}

export interface ContentApp extends SubgraphApp {
  services: ContentServices;
}

/** The composition root of the content service: builds its services and resolvers, then starts it. */
export async function createApp(config: ContentConfig, overrides: ContentAppOverrides = {}): Promise<ContentApp> {
  const websiteService = new WebsiteService();
  const resolvers = new Map<Function, object>([
    [WebsiteResolver, new WebsiteResolver(websiteService)],
    [CompanyWebsiteResolver, new CompanyWebsiteResolver(websiteService)],
  ]);
  const app = await startSubgraphApp({
    name: 'content-service',
    config,
    entities: [Website],
    migrations,
    buildSchema: () => buildContentSchema({ get: (resolverClass) => resolvers.get(resolverClass) }, websiteService),
    createLoaders: createContentLoaders,
    ...overrides,
  });
  return { ...app, services: { websites: websiteService } };
}
