import { LockMode } from '@mikro-orm/core';
import type { Database, Logger } from '@gtm/runtime';
import { ConversationEvents, ConversationEventType } from '../conversation/conversation-events.js';
import { Conversation } from '../conversation/conversation.entity.js';
import { ConversationState } from '../conversation/conversation-state.js';
import type { ConversationStateService } from '../conversation/conversation-state.service.js';
import { SuppressionReason } from '../suppression/suppression.entity.js';
import type { SuppressionService } from '../suppression/suppression.service.js';
import type { UnsubscribeTokens } from './unsubscribe-token.js';

export type UnsubscribeOutcome =
  | { outcome: 'unsubscribed'; email: string | null }
  | { outcome: 'already'; email: string | null }
  /** Forged, altered, or about a conversation that does not exist: one answer for all. */
  | { outcome: 'invalid' };

/** What an unsubscribe link does: suppress the address, stop the sequence, once however often it is used. */
export class UnsubscribeService {
  constructor(
    private readonly options: {
      database: Database;
      tokens: UnsubscribeTokens;
      states: ConversationStateService;
      suppressions: SuppressionService;
      events: ConversationEvents;
      logger: Logger;
    },
  ) {}

  /** Whom a token is for, without changing anything (the confirmation page). */
  async describe(token: string): Promise<UnsubscribeOutcome> {
    const subject = this.options.tokens.verify(token);
    if (!subject) return { outcome: 'invalid' };
    const conversation = await this.options.database.forkForTenant(subject.tenantId).findOne(Conversation, { id: subject.conversationId });
    if (!conversation) return { outcome: 'invalid' };
    return { outcome: conversation.state === ConversationState.UNSUBSCRIBED ? 'already' : 'unsubscribed', email: conversation.leadEmail };
  }

  async unsubscribe(token: string, how: string): Promise<UnsubscribeOutcome> {
    const subject = this.options.tokens.verify(token);
    if (!subject) return { outcome: 'invalid' };
    const em = this.options.database.forkForTenant(subject.tenantId);
    const result = await em.transactional(async (transaction): Promise<UnsubscribeOutcome & { changed?: boolean }> => {
      const conversation = await transaction.findOne(Conversation, { id: subject.conversationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!conversation) return { outcome: 'invalid' };
      if (conversation.state === ConversationState.UNSUBSCRIBED) return { outcome: 'already', email: conversation.leadEmail };
      if (conversation.state === ConversationState.BOUNCED) {
        // Nothing reaches a bounced address anyway; the wish is still recorded.
        if (conversation.leadEmail) await this.options.suppressions.add(transaction, conversation.tenantId, conversation.leadEmail, SuppressionReason.UNSUBSCRIBED, { conversationId: conversation.id, detail: how });
        return { outcome: 'unsubscribed', email: conversation.leadEmail };
      }
      await this.options.states.unsubscribe(transaction, conversation, how);
      return { outcome: 'unsubscribed', email: conversation.leadEmail, changed: true };
    });
    if (result.outcome === 'unsubscribed' && result.changed) {
      this.options.logger.info({ conversationId: subject.conversationId, how }, 'lead unsubscribed');
      await this.options.events.publish({ tenantId: subject.tenantId, conversationId: subject.conversationId, type: ConversationEventType.STATE_CHANGED, state: ConversationState.UNSUBSCRIBED });
    }
    return result;
  }
}
