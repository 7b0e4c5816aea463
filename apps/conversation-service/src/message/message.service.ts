import { LockMode } from '@mikro-orm/core';
import { badUserInput, notFound, parseInput, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import { ConversationEvents, ConversationEventType } from '../conversation/conversation-events.js';
import { Conversation } from '../conversation/conversation.entity.js';
import { ConversationState } from '../conversation/conversation-state.js';
import type { ConversationLoaders } from '../loaders.js';
import { MailboxStatus } from '../mailbox/mailbox.entity.js';
import type { SuppressionService } from '../suppression/suppression.service.js';
import { Message, MessageStatus } from './message.entity.js';
import { bookSend, lockMailboxForBooking } from './send-booking.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

const approveSchema = z.object({
  subject: z.string().trim().min(1, 'must not be empty').max(300).nullish(),
  body: z.string().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10 000 characters').nullish(),
});

const rejectSchema = z.object({ reason: z.string().trim().max(1_000).nullish() });

/** The human in the loop: a drafted reply goes out only once a person approves it (or rejects it). */
export class MessageService {
  constructor(private readonly options: { suppressions: SuppressionService; events: ConversationEvents }) {}

  /**
   * Approves a draft, as it is or edited, and books it in the mailbox's window and caps. Approving a
   * message that is not waiting for approval, or of a conversation that can no longer be written
   * to, changes nothing and says why.
   */
  async approve(context: ConversationContext, messageId: string, edits: { subject?: string | null; body?: string | null }): Promise<Message> {
    const fields = parseInput(approveSchema, edits);
    const found = await context.loaders.messageById.load(messageId);
    if (!found) throw notFound('Message', messageId);
    const message = await context.em.transactional(async (transaction) => {
      const current = await transaction.findOneOrFail(Message, { id: found.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (current.status !== MessageStatus.PENDING_APPROVAL) throw badUserInput(`Message ${messageId} is not waiting for approval (it is ${current.status}).`, 'messageId');
      const conversation = await transaction.findOneOrFail(Conversation, { id: current.conversationId });
      if (conversation.state === ConversationState.UNSUBSCRIBED || conversation.state === ConversationState.BOUNCED) {
        throw badUserInput(`The conversation is ${conversation.state}: nothing more may be sent to ${conversation.leadEmail ?? 'the lead'}.`, 'messageId');
      }
      if (current.toAddress && (await this.options.suppressions.find(transaction, current.toAddress))) throw badUserInput(`${current.toAddress} is suppressed: nothing may be sent to it.`, 'messageId');
      const booking = current.mailboxId ? await lockMailboxForBooking(transaction, current.mailboxId, { horizonDays: 3 }) : null;
      if (!booking) throw badUserInput('The conversation has no mailbox to send from.', 'messageId');
      if (booking.mailbox.status === MailboxStatus.FAILING) throw badUserInput(`Mailbox ${booking.mailbox.address} is failing (${booking.mailbox.lastError ?? 'its server refused it'}); connect it again first.`, 'messageId');
      if (fields.subject) current.subject = fields.subject;
      if (fields.body) current.body = fields.body;
      if (fields.subject || fields.body) current.author = 'person';
      current.decidedAt = new Date();
      await bookSend(transaction, booking.planner, current, new Date());
      return current;
    });
    context.logger.info({ messageId: message.id, conversationId: message.conversationId, edited: Boolean(fields.subject || fields.body) }, 'reply approved');
    return message;
  }

  async reject(context: ConversationContext, messageId: string, reason: string | null | undefined): Promise<Message> {
    const fields = parseInput(rejectSchema, { reason });
    const found = await context.loaders.messageById.load(messageId);
    if (!found) throw notFound('Message', messageId);
    const message = await context.em.transactional(async (transaction) => {
      const current = await transaction.findOneOrFail(Message, { id: found.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (current.status !== MessageStatus.PENDING_APPROVAL) throw badUserInput(`Message ${messageId} is not waiting for approval (it is ${current.status}).`, 'messageId');
      current.status = MessageStatus.REJECTED;
      current.rejectionReason = fields.reason ?? null;
      current.decidedAt = new Date();
      return current;
    });
    await this.options.events.publish({ tenantId: message.tenantId, conversationId: message.conversationId, type: ConversationEventType.DRAFT_REJECTED, messageId: message.id });
    return message;
  }
}
