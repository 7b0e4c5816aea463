import { buildSubgraphSchema, type SubgraphContext } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { companyReference } from './company/company.reference.js';
import { CompanyWebsiteResolver } from './company/company.resolver.js';
import { CompanyReference } from './company/company.type.js';
import type { ContentLoaders } from './loaders.js';
import { createWebsiteReference } from './website/website.reference.js';
import { WebsiteResolver } from './website/website.resolver.js';
import { WebsiteService } from './website/website.service.js';

/**
 * The content subgraph's schema. `container` supplies the resolver instances built in app.ts, which
 * also passes its WebsiteService for the reference resolvers; the default (the service holds no
 * state) lets a tool print the SDL without the app.
 */
export function buildContentSchema(container: ContainerType, websiteService: WebsiteService = new WebsiteService()) {
  return buildSubgraphSchema<SubgraphContext<ContentLoaders>>({
    resolvers: [WebsiteResolver, CompanyWebsiteResolver],
    container,
    // No query returns a Company, so type-graphql would leave the stub (and its `website`) out.
    orphanedTypes: [CompanyReference],
    referenceResolvers: { ...createWebsiteReference(websiteService), ...companyReference },
  });
}
