import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { ConversationStatus } from './conversation.entity.js';

registerEnumType(ConversationStatus, { name: 'ConversationStatus', description: 'Whose turn it is in a conversation, or that it is over.' });

// A type separate from the entity: the lead and campaign ids are exposed as entity references.
@ObjectType('Conversation', { description: 'An email thread with one lead.' })
@Directive('@key(fields: "id")')
export class ConversationType {
  @Field(() => ID)
  id!: string;

  @Field()
  subject!: string;

  @Field(() => ConversationStatus)
  status!: ConversationStatus;

  @Field(() => Date, { nullable: true, description: 'When the last message was sent or received.' })
  lastMessageAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

export const ConversationConnection = ConnectionType(ConversationType, 'Conversation');
