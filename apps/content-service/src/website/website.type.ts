import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, ObjectType } from 'type-graphql';
import type { Website } from './website.entity.js';

/**
 * What the API shows of a website: a stored row, or, for a website the tenant has not analysed yet,
 * the same shape with only `url` and `domain` known.
 */
export type WebsiteView = Pick<Website, 'url' | 'domain' | 'title' | 'description' | 'summary' | 'analyzedAt'>;

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

  @Field(() => String, { nullable: true, description: 'What the company does, in a few sentences.' })
  summary!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the website was last analysed; null until it has been.' })
  analyzedAt!: Date | null;
}

export const WebsiteConnection = ConnectionType(WebsiteType, 'Website');
