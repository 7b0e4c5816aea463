import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, ID, ObjectType } from 'type-graphql';

@ObjectType('Campaign', { description: 'A go-to-market campaign for one website: the assets generated from it.' })
@Directive('@key(fields: "id")')
export class CampaignType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'Normalised: scheme, lower-case host, no fragment, no trailing slash.' })
  websiteUrl!: string;

  @Field(() => String, { nullable: true, description: 'What the user told us about their offer.' })
  userContext!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Why the website could not be analysed when generation last needed it, and what to do; null once an analysis succeeds.',
  })
  websiteError!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

export const CampaignConnection = ConnectionType(CampaignType, 'Campaign');
