import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';

// The conversation service's enums, repeated: the supergraph composes them as one type, and
// `npm run schema:check` fails should the two ever differ.
export enum ConversationEventType {
  MESSAGE_SENT = 'MESSAGE_SENT',
  MESSAGE_FAILED = 'MESSAGE_FAILED',
  REPLY_RECEIVED = 'REPLY_RECEIVED',
  INTENT_CLASSIFIED = 'INTENT_CLASSIFIED',
  STATE_CHANGED = 'STATE_CHANGED',
  DRAFT_READY = 'DRAFT_READY',
  DRAFT_REJECTED = 'DRAFT_REJECTED',
}

export enum ConversationState {
  INITIAL_OUTREACH = 'INITIAL_OUTREACH',
  AWAITING_RESPONSE = 'AWAITING_RESPONSE',
  QUALIFYING = 'QUALIFYING',
  OBJECTION_HANDLING = 'OBJECTION_HANDLING',
  SCHEDULING = 'SCHEDULING',
  NURTURE = 'NURTURE',
  CLOSED = 'CLOSED',
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  BOUNCED = 'BOUNCED',
}

export enum ReplyIntent {
  INTERESTED = 'INTERESTED',
  MEETING_REQUEST = 'MEETING_REQUEST',
  INFORMATION_REQUEST = 'INFORMATION_REQUEST',
  OBJECTION = 'OBJECTION',
  NOT_NOW = 'NOT_NOW',
  NOT_INTERESTED = 'NOT_INTERESTED',
  WRONG_PERSON = 'WRONG_PERSON',
  OUT_OF_OFFICE = 'OUT_OF_OFFICE',
  UNSUBSCRIBE = 'UNSUBSCRIBE',
  BOUNCE = 'BOUNCE',
  OTHER = 'OTHER',
}

registerEnumType(ConversationEventType, { name: 'ConversationEventType', description: 'What happened in a conversation.' });
registerEnumType(ConversationState, { name: 'ConversationState', description: 'Where a conversation with a lead stands.' });
registerEnumType(ReplyIntent, { name: 'ReplyIntent', description: 'What a lead means by a reply.' });

@ObjectType('Conversation')
@Directive('@key(fields: "id", resolvable: false)')
export class ConversationReference {
  @Field(() => ID)
  id!: string;
}

@ObjectType('Message')
@Directive('@key(fields: "id", resolvable: false)')
export class MessageReference {
  @Field(() => ID)
  id!: string;
}

@ObjectType('ConversationEvent', { description: 'Something that happened in a conversation: a message sent or received, an intent read, a state changed, a draft ready.' })
export class ConversationEventObject {
  @Field(() => ID)
  id!: string;

  @Field(() => ConversationEventType)
  type!: ConversationEventType;

  @Field(() => Date)
  at!: Date;

  @Field(() => ConversationState, { nullable: true, description: 'STATE_CHANGED: the new state.' })
  state!: ConversationState | null;

  @Field(() => ReplyIntent, { nullable: true, description: 'INTENT_CLASSIFIED and DRAFT_READY: the intent.' })
  intent!: ReplyIntent | null;

  @Field(() => ConversationReference, { description: 'The conversation, as it is now: select any of its fields.' })
  conversation!: ConversationReference;

  @Field(() => MessageReference, { nullable: true, description: 'The message the event is about (sent, received, drafted), when there is one.' })
  message!: MessageReference | null;
}
