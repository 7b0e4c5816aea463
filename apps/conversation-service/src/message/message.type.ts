import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ReplyIntent } from '../reply/reply-intent.js';
import { MessageDirection, MessageKind, MessageStatus, type Message } from './message.entity.js';

registerEnumType(MessageDirection, { name: 'MessageDirection' });
registerEnumType(MessageKind, { name: 'MessageKind', description: 'What a message is: a sequence step, a drafted reply, the lead’s reply, an automatic reply, a bounce.' });
registerEnumType(MessageStatus, { name: 'MessageStatus', description: 'Where a message stands.' });

@ObjectType('Message', { description: 'One message of a conversation, either way.' })
@Directive('@key(fields: "id")')
export class MessageType {
  @Field(() => ID)
  id!: string;

  @Field(() => MessageDirection)
  direction!: MessageDirection;

  @Field(() => MessageKind)
  kind!: MessageKind;

  @Field(() => MessageStatus)
  status!: MessageStatus;

  @Field(() => Int, { nullable: true, description: 'The sequence step, for a sequence email.' })
  step!: number | null;

  @Field()
  subject!: string;

  @Field({ description: 'What it says. For mail received, the new words only: the quoted history and the signature are cut.' })
  text!: string;

  @Field(() => String, { nullable: true, description: 'The RFC 5322 Message-ID, <…@…>.' })
  messageId!: string | null;

  @Field(() => String, { nullable: true })
  inReplyTo!: string | null;

  @Field(() => String, { nullable: true })
  from!: string | null;

  @Field(() => String, { nullable: true })
  to!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it is booked to go out.' })
  scheduledAt!: Date | null;

  @Field(() => Date, { nullable: true })
  sentAt!: Date | null;

  @Field(() => Date, { nullable: true })
  receivedAt!: Date | null;

  @Field(() => ReplyIntent, { nullable: true, description: 'Received: what the lead meant. A draft: the intent it answers.' })
  intent!: ReplyIntent | null;

  @Field(() => Float, { nullable: true, description: '0..1: how sure the engine is of the intent (or of the draft).' })
  confidence!: number | null;

  @Field(() => String, { nullable: true, description: 'Who wrote it: `offline` (rules, not AI), a model provider, or `person`.' })
  author!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it failed, was cancelled or is waiting.' })
  error!: string | null;

  @Field(() => String, { nullable: true })
  rejectionReason!: string | null;

  @Field(() => ID)
  conversationId!: string;

  @Field()
  createdAt!: Date;
}

export function toMessageType(message: Message): MessageType {
  return {
    id: message.id,
    direction: message.direction,
    kind: message.kind,
    status: message.status,
    step: message.step,
    subject: message.subject,
    text: message.body,
    messageId: message.messageIdHeader,
    inReplyTo: message.inReplyTo,
    from: message.fromAddress,
    to: message.toAddress,
    scheduledAt: message.scheduledAt,
    sentAt: message.sentAt,
    receivedAt: message.receivedAt,
    intent: (message.intent as ReplyIntent | null) ?? null,
    confidence: message.confidence,
    author: message.author,
    error: message.error,
    rejectionReason: message.rejectionReason,
    conversationId: message.conversationId,
    createdAt: message.createdAt,
  };
}
