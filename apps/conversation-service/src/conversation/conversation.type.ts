import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { ReplyIntent } from '../reply/reply-intent.js';
import { ConversationState } from './conversation-state.js';
import { ConversationStatus } from './conversation.entity.js';

registerEnumType(ConversationStatus, { name: 'ConversationStatus', description: 'Whose turn it is in a conversation, or that it is over (derived from `state`).' });

@ObjectType('BantFact', { description: 'One BANT fact, with the lead’s own words it comes from.' })
export class BantFactType {
  @Field()
  value!: string;

  @Field({ description: 'The words of the reply it was taken from.' })
  quote!: string;
}

@ObjectType('Bant', { description: 'Budget, authority, need and timeline, as the lead’s replies state them; null where they say nothing.' })
export class BantType {
  @Field(() => BantFactType, { nullable: true })
  budget!: BantFactType | null;

  @Field(() => BantFactType, { nullable: true })
  authority!: BantFactType | null;

  @Field(() => BantFactType, { nullable: true })
  need!: BantFactType | null;

  @Field(() => BantFactType, { nullable: true })
  timeline!: BantFactType | null;
}

// A type separate from the entity: the lead and campaign ids are exposed as entity references.
@ObjectType('Conversation', { description: 'An email thread with one lead.' })
@Directive('@key(fields: "id")')
export class ConversationType {
  @Field(() => ID)
  id!: string;

  @Field()
  subject!: string;

  @Field(() => ConversationState)
  state!: ConversationState;

  @Field(() => ConversationStatus)
  status!: ConversationStatus;

  @Field(() => ReplyIntent, { nullable: true, description: 'The intent of the lead’s latest reply.' })
  intent!: ReplyIntent | null;

  @Field(() => Float, { nullable: true })
  intentConfidence!: number | null;

  @Field(() => BantType, { nullable: true })
  bant!: BantType | null;

  @Field({ description: 'Replies drafted by the engine wait for approveReply.' })
  requireApproval!: boolean;

  @Field(() => Date, { nullable: true, description: 'NURTURE: when to write again.' })
  followUpAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why it closed, bounced or was unsubscribed.' })
  closeReason!: string | null;

  @Field(() => String, { nullable: true, description: 'The address the messages go to.' })
  leadEmail!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the last message was sent or received.' })
  lastMessageAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

export const ConversationConnection = ConnectionType(ConversationType, 'Conversation');
