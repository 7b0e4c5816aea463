import { Field, ID, InputType } from 'type-graphql';

@InputType()
export class EnrollLeadsInput {
  @Field(() => ID, { description: 'The campaign whose email sequence is sent.' })
  campaignId!: string;

  @Field(() => ID, { description: 'The mailbox it is sent from and replies are read in.' })
  mailboxId!: string;

  @Field(() => [ID], { nullable: true, description: 'The leads to enrol (at most 5 000); or leadListId.' })
  leadIds?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'A lead list of crm-service whose leads are enrolled; or leadIds.' })
  leadListId?: string | null;

  @Field({ defaultValue: true, description: 'Replies drafted by the engine wait for approveReply. Default: true. Without it they are sent, except when the engine is not confident.' })
  requireApproval!: boolean;
}
