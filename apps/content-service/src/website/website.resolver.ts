import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, Query, Resolver } from 'type-graphql';
import type { ContentLoaders } from '../loaders.js';
import type { WebsiteService } from './website.service.js';
import { WebsiteConnection, WebsiteType } from './website.type.js';

type ContentContext = SubgraphContext<ContentLoaders>;

@Resolver(() => WebsiteType)
export class WebsiteResolver {
  constructor(private readonly websiteService: WebsiteService) {}

  @Query(() => WebsiteType, { nullable: true, description: 'Your stored website for this URL (any spelling of it), or null.' })
  website(@Arg('url') url: string, @Ctx() context: ContentContext) {
    return this.websiteService.get(context, url);
  }

  @Query(() => WebsiteConnection, { description: 'Your stored websites, newest first.' })
  websites(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() context: ContentContext) {
    return this.websiteService.list(context, args);
  }
}
