import { conversationLeadOutcome, publishEvent } from '@gtm/events';
import { removeTask } from '@gtm/jobs';
import type { EntityManager, Logger } from '@gtm/runtime';
import { Message, MessageStatus } from '../message/message.entity.js';
import { sendTaskKey } from '../message/send-booking.js';
import { SuppressionReason } from '../suppression/suppression.entity.js';
import type { SuppressionService } from '../suppression/suppression.service.js';
import { assertTransition, ConversationState } from './conversation-state.js';
import type { Conversation } from './conversation.entity.js';

export type LeadOutcome = 'CONTACTED' | 'ENGAGED' | 'QUALIFIED' | 'DISQUALIFIED' | 'UNSUBSCRIBED' | 'BOUNCED';

/** The lead status an outcome suggests to crm-service (which only ever moves a lead forward). */
const leadStatusFor: Record<LeadOutcome, 'CONTACTED' | 'ENGAGED' | 'QUALIFIED' | 'DISQUALIFIED' | null> = {
  CONTACTED: 'CONTACTED',
  ENGAGED: 'ENGAGED',
  QUALIFIED: 'QUALIFIED',
  DISQUALIFIED: 'DISQUALIFIED',
  // A lead who asks to hear no more is not a prospect any longer.
  UNSUBSCRIBED: 'DISQUALIFIED',
  // A bad address says nothing about the lead's interest.
  BOUNCED: null,
};

/** Messages that have not gone out yet and stop with the sequence. */
const pendingStatuses = [MessageStatus.QUEUED, MessageStatus.SCHEDULED, MessageStatus.PENDING_APPROVAL];

/**
 * Moves conversations through their states (conversation-state.ts): every change goes through
 * here, is checked against the allowed transitions, and does what the new state implies (a stopped
 * sequence, a suppressed address).
 */
export class ConversationStateService {
  constructor(
    private readonly suppressions: SuppressionService,
    private readonly logger: Logger,
  ) {}

  /**
   * Changes the state, or refuses with ImpossibleTransitionError. Returns the new state when it
   * changed, null when the conversation was in it already.
   */
  apply(conversation: Conversation, to: ConversationState, why: string): ConversationState | null {
    if (conversation.state === to) return null;
    assertTransition(conversation.state, to);
    this.logger.debug({ conversationId: conversation.id, from: conversation.state, to, why }, 'conversation state changed');
    conversation.state = to;
    conversation.stateChangedAt = new Date();
    return to;
  }

  /**
   * Tells the other services what the conversation came to for its lead (`conversation.lead_outcome`,
   * libs/events), in `transaction`: the event is committed with the change, or not at all.
   */
  async publishOutcome(transaction: EntityManager, conversation: Conversation, outcome: LeadOutcome, details: { intent?: string | null; reason?: string | null } = {}): Promise<void> {
    await publishEvent(transaction, conversationLeadOutcome, {
      entityId: conversation.leadId,
      data: {
        outcome,
        leadStatus: leadStatusFor[outcome],
        conversationId: conversation.id,
        campaignId: conversation.campaignId,
        state: conversation.state,
        intent: details.intent ?? null,
        email: conversation.leadEmail,
        reason: details.reason?.slice(0, 500) ?? null,
      },
      requestId: null,
    });
  }

  /** Cancels every message of the conversation that has not gone out, and takes their send tasks off the queue. */
  async stopPending(transaction: EntityManager, conversation: Conversation, reason: string, options: { keepDrafts?: boolean } = {}): Promise<number> {
    const statuses = options.keepDrafts ? pendingStatuses.filter((status) => status !== MessageStatus.PENDING_APPROVAL) : pendingStatuses;
    const pending = await transaction.find(Message, { conversationId: conversation.id, status: { $in: statuses } });
    for (const message of pending) {
      if (message.status === MessageStatus.SCHEDULED) await removeTask(transaction, sendTaskKey(message.id));
      message.status = MessageStatus.CANCELLED;
      message.error = reason;
    }
    return pending.length;
  }

  /** The address does not accept mail: BOUNCED, suppressed, nothing more goes out. */
  async bounce(transaction: EntityManager, conversation: Conversation, detail: string): Promise<ConversationState | null> {
    const changed = this.apply(conversation, ConversationState.BOUNCED, detail);
    if (conversation.leadEmail) await this.suppressions.add(transaction, conversation.tenantId, conversation.leadEmail, SuppressionReason.BOUNCED, { conversationId: conversation.id, detail });
    await this.stopPending(transaction, conversation, 'The address bounced.');
    conversation.closeReason = detail.slice(0, 500);
    if (changed) await this.publishOutcome(transaction, conversation, 'BOUNCED', { reason: detail });
    return changed;
  }

  /** The lead asked to hear no more: UNSUBSCRIBED, suppressed, nothing more goes out. */
  async unsubscribe(transaction: EntityManager, conversation: Conversation, how: string): Promise<ConversationState | null> {
    const changed = conversation.state === ConversationState.UNSUBSCRIBED ? null : this.apply(conversation, ConversationState.UNSUBSCRIBED, how);
    if (conversation.leadEmail) await this.suppressions.add(transaction, conversation.tenantId, conversation.leadEmail, SuppressionReason.UNSUBSCRIBED, { conversationId: conversation.id, detail: how });
    await this.stopPending(transaction, conversation, 'The lead unsubscribed.');
    conversation.closeReason = how;
    if (changed) await this.publishOutcome(transaction, conversation, 'UNSUBSCRIBED', { reason: how });
    return changed;
  }
}
