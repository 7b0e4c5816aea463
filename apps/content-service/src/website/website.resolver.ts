import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, Directive, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { WebsiteAnalysisService } from '../analysis/website-analysis.service.js';
import type { ContentLoaders } from '../loaders.js';
import type { WebsiteService } from './website.service.js';
import {
  ContentChunkType,
  ContextQualityType,
  SkippedPageType,
  TeamMemberType,
  TechnologyType,
  WebPageType,
  WebsiteConnection,
  WebsiteContactsType,
  WebsiteType,
  type WebsiteView,
} from './website.type.js';

type ContentContext = SubgraphContext<ContentLoaders>;

@Resolver(() => WebsiteType)
export class WebsiteResolver {
  constructor(
    private readonly websiteService: WebsiteService,
    private readonly analysisService: WebsiteAnalysisService,
  ) {}

  @Query(() => WebsiteType, { nullable: true, description: 'Your stored website for this URL (any spelling of it), or null.' })
  website(@Arg('url') url: string, @Ctx() context: ContentContext) {
    return this.websiteService.get(context, url);
  }

  @Query(() => WebsiteConnection, { description: 'Your stored websites, newest first.' })
  websites(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() context: ContentContext) {
    return this.websiteService.list(context, args);
  }

  @Mutation(() => WebsiteType, {
    description:
      'Crawls the website (robots.txt honoured), extracts, cleans, chunks and scores it, and stores the analysis. ' +
      'A recent analysis (24 h by default) is returned as it is unless `refresh` is true; concurrent calls for one site share one crawl.',
  })
  @Directive('@tag(name: "llm")')
  analyzeWebsite(
    @Arg('url') url: string,
    @Arg('refresh', () => Boolean, { nullable: true, defaultValue: false }) refresh: boolean | null,
    @Ctx() context: ContentContext,
  ) {
    return this.analysisService.analyze(context, url, { refresh: refresh ?? false });
  }

  @FieldResolver(() => [WebPageType], { description: 'The pages the analysis read, the home page first.' })
  pages(@Root() website: WebsiteView, @Ctx() context: ContentContext) {
    return this.websiteService.pagesOf(context, website);
  }

  @FieldResolver(() => ContextQualityType)
  quality(@Root() website: WebsiteView) {
    return this.websiteService.qualityOf(website);
  }

  @FieldResolver(() => [ContentChunkType], { description: 'The passages that best match `query`, best first (PostgreSQL full-text search).' })
  search(
    @Root() website: WebsiteView,
    @Arg('query') query: string,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 5, description: '1 to 50.' }) limit: number | null,
    @Ctx() context: ContentContext,
  ) {
    return this.websiteService.search(context, website, query, limit ?? 5);
  }

  @FieldResolver(() => WebsiteContactsType)
  contacts(@Root() website: WebsiteView) {
    return website.facts?.contacts ?? { emails: [], phones: [], socialLinks: [] };
  }

  @FieldResolver(() => [TeamMemberType])
  teamMembers(@Root() website: WebsiteView) {
    return website.facts?.teamMembers ?? [];
  }

  @FieldResolver(() => [TechnologyType])
  technologies(@Root() website: WebsiteView) {
    return website.facts?.technologies ?? [];
  }

  @FieldResolver(() => [SkippedPageType], { description: 'Pages the crawl chose but could not read, and why.' })
  skippedPages(@Root() website: WebsiteView) {
    return website.facts?.skippedPages ?? [];
  }
}
