import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import { ConversationState } from './conversation-state.js';

/** Whose turn it is, coarsely: what `status` showed before conversations had states; derived from the state. */
export enum ConversationStatus {
  OPEN = 'OPEN',
  WAITING_FOR_REPLY = 'WAITING_FOR_REPLY',
  REPLIED = 'REPLIED',
  CLOSED = 'CLOSED',
}

export function statusOf(state: ConversationState): ConversationStatus {
  switch (state) {
    case ConversationState.INITIAL_OUTREACH:
      return ConversationStatus.OPEN;
    case ConversationState.AWAITING_RESPONSE:
      return ConversationStatus.WAITING_FOR_REPLY;
    case ConversationState.CLOSED:
    case ConversationState.UNSUBSCRIBED:
    case ConversationState.BOUNCED:
      return ConversationStatus.CLOSED;
    default:
      return ConversationStatus.REPLIED;
  }
}

/** The states each status covers, for filtering by status. */
export function statesOf(status: ConversationStatus): ConversationState[] {
  return Object.values(ConversationState).filter((state) => statusOf(state) === status);
}

/** BANT facts from the lead's replies, each with the words it was taken from. */
export interface BantFacts {
  budget: BantFact | null;
  authority: BantFact | null;
  need: BantFact | null;
  timeline: BantFact | null;
}

export interface BantFact {
  value: string;
  quote: string;
}

/** An email thread with one lead, possibly started by a campaign's sequence. */
@Entity({ tableName: 'conversation' })
export class Conversation extends TenantScopedEntity {
  @Property({ type: 'text' })
  subject!: string;

  @Enum({ items: () => ConversationState, nativeEnumName: undefined })
  state: Opt<ConversationState> = ConversationState.INITIAL_OUTREACH;

  @Property({ type: 'datetime', nullable: true })
  stateChangedAt: Date | null = null;

  /** The crm-service `Lead` this conversation is with. */
  @Property({ type: 'uuid' })
  leadId!: string;

  /** The campaign-service `Campaign` that started it, if any. */
  @Property({ type: 'uuid', nullable: true })
  campaignId: string | null = null;

  /** The mailbox it is sent from and read in; null for a conversation started by hand without one. */
  @Property({ type: 'uuid', nullable: true })
  mailboxId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  enrollmentId: string | null = null;

  /** The lead as enrolled (crm-service owns the lead; this is what the messages were written to). */
  @Property({ type: 'text', nullable: true })
  leadEmail: string | null = null;

  @Property({ type: 'text', nullable: true })
  leadFirstName: string | null = null;

  @Property({ type: 'text', nullable: true })
  leadLastName: string | null = null;

  @Property({ type: 'text', nullable: true })
  leadCompany: string | null = null;

  /** Replies drafted by the engine wait for a person's approval. */
  @Property({ type: 'boolean' })
  requireApproval: Opt<boolean> = true;

  /** The intent of the lead's latest reply. */
  @Property({ type: 'text', nullable: true })
  intent: string | null = null;

  @Property({ type: 'float', nullable: true })
  intentConfidence: number | null = null;

  @Property({ type: 'json', nullable: true })
  bant: BantFacts | null = null;

  /** NURTURE: when to write again. */
  @Property({ type: 'datetime', nullable: true })
  followUpAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  closeReason: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastMessageAt: Date | null = null;
}
