import { ConnectionType, graphqlEnumOf } from '@gtm/runtime';
import { Directive, Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { pageKinds, type PageKind } from '../crawl/page-kind.js';
import { pageSources, qualityLevels, type PageSource, type QualityLevel, type Website } from './website.entity.js';

export const PageKindEnum = graphqlEnumOf(pageKinds);
export const QualityLevelEnum = graphqlEnumOf(qualityLevels);
export const PageSourceEnum = graphqlEnumOf(pageSources);
registerEnumType(PageKindEnum, { name: 'PageKind', description: 'What a page is about, as far as a go-to-market profile cares.' });
registerEnumType(QualityLevelEnum, {
  name: 'QualityLevel',
  description: 'How well the website supports a campaign: SUFFICIENT (score > 0.8), PARTIAL (0.6–0.8), INSUFFICIENT (0.4–0.6), MISSING (< 0.4).',
});
registerEnumType(PageSourceEnum, { name: 'PageSource', description: 'How pages were read: DIRECT (fetched), FIRECRAWL, or CHROMIUM (rendered).' });

/**
 * What the API shows of a website: a stored row, or, for a website the tenant has not analysed yet,
 * the same shape with only `url` and `domain` known (and no id).
 */
export type WebsiteView = Pick<
  Website,
  'url' | 'domain' | 'title' | 'description' | 'summary' | 'extractiveSummary' | 'summaryProvider' | 'analyzedAt' | 'qualityScore' | 'qualityLevel' | 'qualityGaps' | 'source' | 'facts'
> & { id?: string };

@ObjectType('WebPage', { description: 'A page the analysis read.' })
export class WebPageType {
  @Field()
  url!: string;

  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => PageKindEnum)
  kind!: PageKind;

  @Field(() => Int, { description: 'Words of the page’s own content, after navigation and repeated blocks were removed.' })
  wordCount!: number;
}

@ObjectType('ContextQuality', { description: 'How well the website covers what a campaign needs.' })
export class ContextQualityType {
  @Field(() => QualityLevelEnum)
  level!: QualityLevel;

  @Field(() => Float, { description: '0..1, from coverage of what it is, for whom, features, proof and pricing, and from volume.' })
  score!: number;

  @Field(() => [String], { description: 'What is missing or thin, in words a user can act on.' })
  gaps!: string[];
}

@ObjectType('ContentChunk', { description: 'A passage of the website, cut at its headings, ranked for a search.' })
export class ContentChunkType {
  @Field()
  text!: string;

  @Field()
  pageUrl!: string;

  @Field({ description: 'The innermost heading above the passage.' })
  heading!: string;

  @Field(() => [String], { description: 'Every heading above the passage, outermost first.' })
  headingPath!: string[];

  @Field(() => Float, { description: 'Relevance, 0..1; only comparable within one search.' })
  score!: number;
}

@ObjectType('SocialLink')
export class SocialLinkType {
  @Field({ description: 'linkedin, x, github, youtube, facebook, instagram …' })
  network!: string;

  @Field()
  url!: string;
}

@ObjectType('WebsiteContacts', { description: 'Contact details published on the website.' })
export class WebsiteContactsType {
  @Field(() => [String])
  emails!: string[];

  @Field(() => [String])
  phones!: string[];

  @Field(() => [SocialLinkType])
  socialLinks!: SocialLinkType[];
}

@ObjectType('TeamMember', { description: 'A person the website names with a role (about and team pages, structured data).' })
export class TeamMemberType {
  @Field()
  name!: string;

  @Field()
  title!: string;

  @Field()
  pageUrl!: string;

  @Field(() => String, { nullable: true, description: 'Their own address, from a mailto: link in their card or structured data.' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'Their own number, from a tel: link in their card or structured data.' })
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'Their LinkedIn profile (linkedin.com/in/…), from a link in their card or structured data.' })
  linkedinUrl?: string | null;
}

@ObjectType('Technology', { description: 'A technology the website’s HTML shows it uses.' })
export class TechnologyType {
  @Field()
  name!: string;

  @Field()
  category!: string;

  @Field({ description: 'What in the HTML gave it away.' })
  evidence!: string;
}

@ObjectType('SkippedPage', { description: 'A page the crawl chose but could not read.' })
export class SkippedPageType {
  @Field()
  url!: string;

  @Field()
  reason!: string;
}

@ObjectType('Website', { description: 'A company website and what the analysis found on it.' })
@Directive('@key(fields: "url")')
export class WebsiteType {
  @Field({ description: 'Normalised: scheme, lower-case host, no fragment, no trailing slash.' })
  url!: string;

  @Field({ description: 'Lower-case host without www.' })
  domain!: string;

  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { nullable: true, description: 'What the company does, in a few sentences: the model’s summary when one is configured, else the extractive one.' })
  summary!: string | null;

  @Field(() => String, { nullable: true, description: 'Sentences picked from the website itself, without a model.' })
  extractiveSummary!: string | null;

  @Field(() => String, { nullable: true, description: 'The LLM provider that wrote `summary` (`offline` when no model did).' })
  summaryProvider!: string | null;

  @Field(() => PageSourceEnum, { nullable: true, description: 'How the pages were read; null until the website has been analysed.' })
  source!: PageSource | null;

  @Field(() => Date, { nullable: true, description: 'When the website was last analysed; null until it has been.' })
  analyzedAt!: Date | null;
}

export const WebsiteConnection = ConnectionType(WebsiteType, 'Website');
