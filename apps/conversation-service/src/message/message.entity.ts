import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import type { BantFacts } from '../conversation/conversation.entity.js';
import type { DeliveryStatusReport } from '../mail/delivery-status.js';

export enum MessageDirection {
  OUTBOUND = 'OUTBOUND',
  INBOUND = 'INBOUND',
}

export enum MessageKind {
  /** A step of the campaign's email sequence. */
  SEQUENCE_STEP = 'SEQUENCE_STEP',
  /** The engine's answer to a reply (a draft until approved). */
  REPLY = 'REPLY',
  /** A NURTURE conversation's check-in on its follow-up date (a draft until approved). */
  FOLLOW_UP = 'FOLLOW_UP',
  /** What the lead wrote. */
  LEAD_REPLY = 'LEAD_REPLY',
  /** An automatic reply: out-of-office, vacation responder. */
  AUTO_REPLY = 'AUTO_REPLY',
  /** A delivery status notification (bounce) about one of our messages. */
  DELIVERY_REPORT = 'DELIVERY_REPORT',
}

export enum MessageStatus {
  /** A later sequence step, waiting for the one before it to go out. */
  QUEUED = 'QUEUED',
  /** Booked for `scheduledAt`; a send task will take it. */
  SCHEDULED = 'SCHEDULED',
  /** Handed to the SMTP server right now (or a send was interrupted: it is never repeated). */
  SENDING = 'SENDING',
  SENT = 'SENT',
  /** Could not be sent; `error` says why. */
  FAILED = 'FAILED',
  /** Will not be sent: the lead replied, unsubscribed, bounced, or the conversation closed. */
  CANCELLED = 'CANCELLED',
  /** A draft waiting for a person: approveReply or rejectReply. */
  PENDING_APPROVAL = 'PENDING_APPROVAL',
  REJECTED = 'REJECTED',
  /** Sent, then returned undeliverable for good. */
  BOUNCED = 'BOUNCED',
  /** Inbound, stored, being understood. */
  RECEIVED = 'RECEIVED',
  /** Inbound, understood: intent, BANT and state applied. */
  PROCESSED = 'PROCESSED',
}

/** One message of a conversation, either way. */
@Entity({ tableName: 'message' })
export class Message extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  conversationId!: string;

  @Property({ type: 'uuid', nullable: true })
  mailboxId: string | null = null;

  @Enum({ items: () => MessageDirection, nativeEnumName: undefined })
  direction!: MessageDirection;

  @Enum({ items: () => MessageKind, nativeEnumName: undefined })
  kind!: MessageKind;

  @Enum({ items: () => MessageStatus, nativeEnumName: undefined })
  status!: MessageStatus;

  /** The sequence step (1 …) for SEQUENCE_STEP. */
  @Property({ type: 'integer', nullable: true })
  step: number | null = null;

  /** Days after the previous step, for a QUEUED step. */
  @Property({ type: 'integer', nullable: true })
  delayDays: number | null = null;

  @Property({ type: 'text' })
  subject!: string;

  /** What the message says: for inbound mail, the new words only (quote and signature cut). */
  @Property({ type: 'text' })
  body!: string;

  /** Inbound: the whole text as received (bounded), for a person who wants the context. */
  @Property({ type: 'text', nullable: true, lazy: true })
  fullText: string | null = null;

  /** The RFC 5322 Message-ID, `<…@…>`; fixed before the first send attempt. */
  @Property({ type: 'text', nullable: true })
  messageIdHeader: string | null = null;

  @Property({ type: 'text', nullable: true })
  inReplyTo: string | null = null;

  @Property({ type: 'text[]' })
  referenceIds: Opt<string[]> = [];

  @Property({ type: 'text', nullable: true })
  fromAddress: string | null = null;

  @Property({ type: 'text', nullable: true })
  toAddress: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  scheduledAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  sentAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  receivedAt: Date | null = null;

  /** Send attempts started. */
  @Property({ type: 'integer' })
  attempts: Opt<number> = 0;

  /** Times a soft bounce sent it again. */
  @Property({ type: 'integer' })
  bounceRetries: Opt<number> = 0;

  /** Inbound: what the lead meant. Draft: the intent it answers. */
  @Property({ type: 'text', nullable: true })
  intent: string | null = null;

  @Property({ type: 'float', nullable: true })
  confidence: number | null = null;

  @Property({ type: 'json', nullable: true })
  bant: BantFacts | null = null;

  @Property({ type: 'json', nullable: true })
  deliveryStatus: DeliveryStatusReport | null = null;

  /** A draft: the inbound message it answers. */
  @Property({ type: 'uuid', nullable: true })
  answersMessageId: string | null = null;

  /** Who or what wrote it: `offline`, a model provider, or `person` once edited. */
  @Property({ type: 'text', nullable: true })
  author: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  decidedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  rejectionReason: string | null = null;

  /** Why it failed or was cancelled, or what is being retried. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'integer', nullable: true })
  sizeBytes: number | null = null;
}
