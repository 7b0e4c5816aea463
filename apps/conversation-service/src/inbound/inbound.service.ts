import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { enqueueTask } from '@gtm/jobs';
import type { Database, EntityManager, Logger } from '@gtm/runtime';
import { ConversationEvents, ConversationEventType } from '../conversation/conversation-events.js';
import { Conversation } from '../conversation/conversation.entity.js';
import type { InboundMail } from '../mail/inbound-mail.js';
import type { Mailbox } from '../mailbox/mailbox.entity.js';
import { Message, MessageDirection, MessageKind, MessageStatus } from '../message/message.entity.js';

export const processInboundTask = 'conversation.process-inbound';

export type InboundOutcome =
  | { outcome: 'received'; messageId: string; conversationId: string }
  /** Seen before (the same Message-ID from IMAP and the webhook, or a retried delivery). */
  | { outcome: 'duplicate'; messageId: string }
  /** Not about any conversation of this mailbox: kept nowhere. */
  | { outcome: 'unmatched' };

/** How much of a message's text is kept: the reply's own words, and the whole text for context. */
const replyTextLimit = 20_000;
const fullTextLimit = 100_000;

/**
 * Files inbound mail under the conversation it belongs to, whichever way it came (IMAP or webhook):
 * by the threading headers first (In-Reply-To, References, and for a bounce the Message-ID of the
 * returned original), else by the sender's address among the mailbox's conversations. It is stored
 * once (by Message-ID per mailbox) with a task that understands it, in one transaction.
 */
export class InboundService {
  constructor(
    private readonly options: {
      database: Database;
      events: ConversationEvents;
      logger: Logger;
    },
  ) {}

  async store(mailbox: Mailbox, mail: InboundMail, via: 'IMAP' | 'WEBHOOK'): Promise<InboundOutcome> {
    const em = this.options.database.forkForTenant(mailbox.tenantId);
    if (mail.messageId) {
      const existing = await em.findOne(Message, { mailboxId: mailbox.id, messageIdHeader: mail.messageId });
      if (existing) return { outcome: 'duplicate', messageId: existing.id };
    }
    const kind = mail.deliveryStatus ? MessageKind.DELIVERY_REPORT : mail.autoReply ? MessageKind.AUTO_REPLY : MessageKind.LEAD_REPLY;
    const match = await this.match(em, mailbox, mail, kind);
    if (!match) {
      this.options.logger.info({ mailboxId: mailbox.id, via, kind }, 'inbound mail matches no conversation of its mailbox; ignored');
      return { outcome: 'unmatched' };
    }
    const now = new Date();
    let message: Message;
    try {
      message = await em.transactional(async (transaction) => {
        const stored = transaction.create(Message, {
          tenantId: mailbox.tenantId,
          conversationId: match.conversation.id,
          mailboxId: mailbox.id,
          direction: MessageDirection.INBOUND,
          kind,
          status: MessageStatus.RECEIVED,
          subject: mail.subject.slice(0, 1_000) || '(no subject)',
          body: mail.replyText.slice(0, replyTextLimit),
          fullText: mail.text.slice(0, fullTextLimit),
          messageIdHeader: mail.messageId,
          inReplyTo: mail.inReplyTo,
          referenceIds: mail.references.slice(-50),
          fromAddress: mail.from?.address ?? null,
          toAddress: mailbox.address,
          receivedAt: now,
          deliveryStatus: mail.deliveryStatus,
          answersMessageId: match.answers?.id ?? null,
          sizeBytes: mail.size,
        });
        const conversation = await transaction.findOneOrFail(Conversation, { id: match.conversation.id });
        conversation.lastMessageAt = now;
        await transaction.flush();
        await enqueueTask(transaction, { task: processInboundTask, payload: { tenantId: mailbox.tenantId, messageId: stored.id }, jobKey: `conversation-inbound:${stored.id}`, maxAttempts: 8 });
        return stored;
      });
    } catch (error) {
      // The same message arriving by IMAP and by webhook at the same moment: one of them wins.
      if (error instanceof UniqueConstraintViolationException && mail.messageId) {
        const existing = await this.options.database.forkForTenant(mailbox.tenantId).findOne(Message, { mailboxId: mailbox.id, messageIdHeader: mail.messageId });
        if (existing) return { outcome: 'duplicate', messageId: existing.id };
      }
      throw error;
    }
    this.options.logger.info({ mailboxId: mailbox.id, conversationId: match.conversation.id, messageId: message.id, via, kind }, 'inbound mail received');
    await this.options.events.publish({ tenantId: mailbox.tenantId, conversationId: match.conversation.id, type: ConversationEventType.REPLY_RECEIVED, messageId: message.id });
    return { outcome: 'received', messageId: message.id, conversationId: match.conversation.id };
  }

  private async match(em: EntityManager, mailbox: Mailbox, mail: InboundMail, kind: MessageKind): Promise<{ conversation: Conversation; answers: Message | null } | null> {
    // For a bounce, the returned original names our message best; for a reply, the newest reference first.
    const candidates = kind === MessageKind.DELIVERY_REPORT ? [...mail.embeddedMessageIds, mail.inReplyTo, ...mail.references.toReversed()] : [mail.inReplyTo, ...mail.references.toReversed()];
    const ids = [...new Set(candidates.filter((id): id is string => Boolean(id)))];
    if (ids.length > 0) {
      const known = await em.find(Message, { mailboxId: mailbox.id, messageIdHeader: { $in: ids } });
      for (const id of ids) {
        const found = known.find((message) => message.messageIdHeader === id);
        if (found) return { conversation: await em.findOneOrFail(Conversation, { id: found.conversationId }), answers: found.direction === MessageDirection.OUTBOUND ? found : null };
      }
    }
    // Some clients and bounce generators drop the threading headers: fall back to the address.
    const addresses = kind === MessageKind.DELIVERY_REPORT ? (mail.deliveryStatus?.recipients.map((recipient) => recipient.recipient).filter((address): address is string => Boolean(address)) ?? []) : mail.from ? [mail.from.address] : [];
    if (addresses.length === 0) return null;
    const conversation = await em.findOne(Conversation, { mailboxId: mailbox.id, leadEmail: { $in: addresses } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
    if (!conversation) return null;
    const lastSent = await em.findOne(Message, { conversationId: conversation.id, direction: MessageDirection.OUTBOUND, sentAt: { $ne: null } }, { orderBy: { sentAt: 'desc' } });
    return { conversation, answers: lastSent };
  }
}
