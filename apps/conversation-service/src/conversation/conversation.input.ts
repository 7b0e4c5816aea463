import { Field, ID, InputType } from 'type-graphql';
import { ConversationState } from './conversation-state.js';
import { ConversationStatus } from './conversation.entity.js';

@InputType()
export class StartConversationInput {
  @Field(() => ID, { description: 'The lead to talk to: a lead of your tenant in crm-service.' })
  leadId!: string;

  @Field(() => ID, { nullable: true, description: 'The campaign this conversation belongs to, if any.' })
  campaignId?: string | null;

  @Field({ description: '1 to 300 characters.' })
  subject!: string;
}

@InputType()
export class ConversationFilter {
  @Field(() => ID, { nullable: true })
  leadId?: string | null;

  @Field(() => ID, { nullable: true })
  campaignId?: string | null;

  @Field(() => ID, { nullable: true })
  mailboxId?: string | null;

  @Field(() => [ConversationStatus], { nullable: true, description: 'Conversations in any of these statuses.' })
  status?: ConversationStatus[] | null;

  @Field(() => [ConversationState], { nullable: true, description: 'Conversations in any of these states.' })
  state?: ConversationState[] | null;
}
