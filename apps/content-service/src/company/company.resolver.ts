import type { SubgraphContext } from '@gtm/runtime';
import { Ctx, Directive, FieldResolver, Resolver, Root } from 'type-graphql';
import type { ContentLoaders } from '../loaders.js';
import type { WebsiteService } from '../website/website.service.js';
import { WebsiteType } from '../website/website.type.js';
import { CompanyReference } from './company.type.js';

@Resolver(() => CompanyReference)
export class CompanyWebsiteResolver {
  constructor(private readonly websiteService: WebsiteService) {}

  @FieldResolver(() => WebsiteType, { nullable: true, description: 'The company’s website as your analysis sees it; null when the company has no website URL.' })
  @Directive('@requires(fields: "websiteUrl")')
  website(@Root() company: CompanyReference, @Ctx() context: SubgraphContext<ContentLoaders>) {
    return company.websiteUrl ? this.websiteService.resolve(context, company.websiteUrl) : null;
  }
}
