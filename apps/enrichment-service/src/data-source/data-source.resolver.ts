import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { EnrichmentLoaders } from '../loaders.js';
import type { DataSourceService } from './data-source.service.js';
import { DataSourceType } from './data-source.type.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

@Resolver(() => DataSourceType)
export class DataSourceResolver {
  constructor(private readonly dataSourceService: DataSourceService) {}

  @Query(() => [DataSourceType], {
    description: 'The data-source catalog shared by every tenant, by slug; with a category, the sources listed in it (an unknown category is BAD_USER_INPUT naming the known ones).',
  })
  dataSources(@Arg('category', () => String, { nullable: true }) category: string | null | undefined, @Ctx() context: EnrichmentContext) {
    return this.dataSourceService.list(context, category);
  }

  @Query(() => DataSourceType, { nullable: true, description: 'One data source by slug, or null.' })
  dataSource(@Arg('slug') slug: string, @Ctx() context: EnrichmentContext) {
    return this.dataSourceService.get(context, slug);
  }
}
