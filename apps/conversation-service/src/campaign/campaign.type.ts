import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** campaign-service owns `Campaign`; this subgraph knows only its key and adds `conversations` to it. */
@ObjectType('Campaign')
@Directive('@key(fields: "id")')
export class CampaignReference {
  @Field(() => ID)
  id!: string;
}
