import { LockMode } from '@mikro-orm/core';
import type { Database, EntityManager, Logger } from '@gtm/runtime';
import type { JobHelpers, Task } from 'graphile-worker';
import { ConversationEvents, ConversationEventType } from '../conversation/conversation-events.js';
import { Conversation } from '../conversation/conversation.entity.js';
import { ConversationState } from '../conversation/conversation-state.js';
import type { ConversationStateService } from '../conversation/conversation-state.service.js';
import type { MailConnector } from '../mail/mail-connector.js';
import { MailServerError } from '../mail/mail-server.error.js';
import type { SmtpSender } from '../mail/smtp-sender.js';
import { Mailbox, MailboxStatus } from '../mailbox/mailbox.entity.js';
import type { MailboxService } from '../mailbox/mailbox.service.js';
import { sendWindowOf } from '../mailbox/mailbox.service.js';
import { isInsideWindow } from '../mailbox/send-window.js';
import type { SuppressionService } from '../suppression/suppression.service.js';
import type { UnsubscribeTokens } from '../unsubscribe/unsubscribe-token.js';
import { bookSend, enqueueSend, lockMailboxForBooking } from './send-booking.js';
import { Message, MessageKind, MessageStatus } from './message.entity.js';

export interface SendMessageTaskDependencies {
  database: Database;
  mailboxes: MailboxService;
  mail: MailConnector;
  suppressions: SuppressionService;
  states: ConversationStateService;
  tokens: UnsubscribeTokens;
  events: ConversationEvents;
  /** PUBLIC_URL: unsubscribe links start with it. */
  publicUrl: string;
  logger: Logger;
}

/** How long a message waits while its mailbox is paused or failing before it looks again. */
const mailboxRecheckMs = 15 * 60 * 1000;

/** States in which a sequence step still goes out: nobody has answered yet. */
const sequenceStates = new Set([ConversationState.INITIAL_OUTREACH, ConversationState.AWAITING_RESPONSE]);

/** What the claim decided: send now, or nothing to do (already handled, rescheduled, cancelled). */
type Claim = { send: true; message: Message; conversation: Conversation; mailbox: Mailbox } | { send: false };

/** Books the step after `message` (if the sequence has one and still runs), in `transaction`. */
async function scheduleNextStep(transaction: EntityManager, message: Message, after: Date): Promise<void> {
  if (message.kind !== MessageKind.SEQUENCE_STEP || message.step === null || !message.mailboxId) return;
  const next = await transaction.findOne(Message, { conversationId: message.conversationId, kind: MessageKind.SEQUENCE_STEP, step: message.step + 1, status: MessageStatus.QUEUED });
  if (!next) return;
  const earliest = new Date(after.getTime() + (next.delayDays ?? 0) * 86_400_000);
  const booking = await lockMailboxForBooking(transaction, message.mailboxId, { from: earliest, horizonDays: 3 });
  if (!booking) return;
  await bookSend(transaction, booking.planner, next, earliest);
}

/**
 * The task that sends one message. It claims the message (SCHEDULED → SENDING) in a committed
 * transaction before talking to the server, so however often the task runs (a retry, a worker taken
 * for dead) the message reaches the server at most once; then it records the outcome and books the
 * next step of the sequence.
 */
export function createSendMessageTask(dependencies: SendMessageTaskDependencies): { task: Task; close(): void } {
  const { database, logger } = dependencies;
  const senders = new Map<string, { version: number; sender: SmtpSender }>();

  /** One pooled SMTP connection per mailbox, replaced when the mailbox's settings change. */
  const senderFor = async (em: EntityManager, mailbox: Mailbox): Promise<SmtpSender> => {
    const version = mailbox.updatedAt.getTime();
    const cached = senders.get(mailbox.id);
    if (cached?.version === version) return cached.sender;
    cached?.sender.close();
    const secrets = await dependencies.mailboxes.secretsOf(em, mailbox);
    const sender = dependencies.mail.smtp(dependencies.mailboxes.smtpSettingsOf(mailbox, secrets), { pooled: true });
    senders.set(mailbox.id, { version, sender });
    return sender;
  };

  const claim = (em: EntityManager, messageId: string): Promise<Claim> =>
    em.transactional(async (transaction) => {
      const message = await transaction.findOne(Message, { id: messageId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!message) return { send: false };
      if (message.status === MessageStatus.SENDING) {
        // A run claimed it and never recorded how it went (the process died mid-send). The server may
        // have taken it: it is not sent again, and the sequence goes on.
        message.status = MessageStatus.FAILED;
        message.error = 'Interrupted while sending; not sent again, as the server may already have taken it.';
        await scheduleNextStep(transaction, message, new Date());
        return { send: false };
      }
      if (message.status !== MessageStatus.SCHEDULED) return { send: false };
      const conversation = await transaction.findOneOrFail(Conversation, { id: message.conversationId });
      const mailbox = message.mailboxId ? await transaction.findOne(Mailbox, { id: message.mailboxId }) : null;
      const cancel = (reason: string) => {
        message.status = MessageStatus.CANCELLED;
        message.error = reason;
        return { send: false } as const;
      };
      if (!mailbox) return cancel('Its mailbox no longer exists.');
      if (message.kind === MessageKind.SEQUENCE_STEP && !sequenceStates.has(conversation.state)) return cancel(`The conversation is ${conversation.state}: the sequence stopped.`);
      if ([ConversationState.UNSUBSCRIBED, ConversationState.BOUNCED].includes(conversation.state)) return cancel(`The conversation is ${conversation.state}.`);
      const suppressed = message.toAddress ? await dependencies.suppressions.find(transaction, message.toAddress) : null;
      if (suppressed) return cancel(`${message.toAddress} is suppressed (${suppressed.reason}).`);
      if (mailbox.status !== MailboxStatus.ACTIVE) {
        message.error = `Waiting: the mailbox is ${mailbox.status}.`;
        await enqueueSend(transaction, message, new Date(Date.now() + mailboxRecheckMs));
        return { send: false };
      }
      if (!isInsideWindow(new Date(), sendWindowOf(mailbox))) {
        // Late (the service was down over the window's end, or the window changed): book again.
        const booking = await lockMailboxForBooking(transaction, mailbox.id, { horizonDays: 3 });
        await bookSend(transaction, booking!.planner, message, new Date());
        return { send: false };
      }
      message.status = MessageStatus.SENDING;
      message.attempts += 1;
      message.error = null;
      return { send: true, message, conversation, mailbox };
    });

  const headersFor = (message: Message, conversation: Conversation, mailbox: Mailbox): Record<string, string> => {
    const url = `${dependencies.publicUrl}/unsubscribe/${dependencies.tokens.sign({ tenantId: conversation.tenantId, conversationId: conversation.id })}`;
    return {
      // RFC 8058: one POST to the URL unsubscribes, with no page to visit; mailto for clients without it.
      'List-Unsubscribe': `<${url}>, <mailto:${mailbox.address}?subject=unsubscribe>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'X-GTM-Message': message.id,
    };
  };

  const recordSent = async (em: EntityManager, message: Message, response: string) => {
    const now = new Date();
    let stateChanged: ConversationState | null = null;
    await em.transactional(async (transaction) => {
      const current = await transaction.findOneOrFail(Message, { id: message.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      current.status = MessageStatus.SENT;
      current.sentAt = now;
      current.error = null;
      const conversation = await transaction.findOneOrFail(Conversation, { id: current.conversationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      conversation.lastMessageAt = now;
      if (conversation.state === ConversationState.INITIAL_OUTREACH || (conversation.state === ConversationState.NURTURE && current.kind === MessageKind.FOLLOW_UP)) {
        stateChanged = dependencies.states.apply(conversation, ConversationState.AWAITING_RESPONSE, 'a message went out');
        if (current.kind === MessageKind.SEQUENCE_STEP) await dependencies.states.publishOutcome(transaction, conversation, 'CONTACTED');
      }
      await scheduleNextStep(transaction, current, now);
    });
    logger.debug({ messageId: message.id, response: response.slice(0, 120) }, 'message sent');
    await dependencies.events.publish({ tenantId: message.tenantId, conversationId: message.conversationId, type: ConversationEventType.MESSAGE_SENT, messageId: message.id });
    if (stateChanged) await dependencies.events.publish({ tenantId: message.tenantId, conversationId: message.conversationId, type: ConversationEventType.STATE_CHANGED, state: stateChanged });
  };

  const recordFailure = async (em: EntityManager, message: Message, error: MailServerError, helpers: JobHelpers): Promise<'retry' | 'done'> => {
    const lastAttempt = helpers.job.attempts >= helpers.job.max_attempts;
    let outcome: 'retry' | 'done' = 'done';
    let bounced = false;
    await em.transactional(async (transaction) => {
      const current = await transaction.findOneOrFail(Message, { id: message.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      current.error = error.message;
      if (error.reason === 'RECIPIENT_REJECTED') {
        // Refused at RCPT for good: the address bounces, here and now.
        current.status = MessageStatus.FAILED;
        const conversation = await transaction.findOneOrFail(Conversation, { id: current.conversationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        await dependencies.states.bounce(transaction, conversation, error.message);
        bounced = true;
        return;
      }
      if (error.reason === 'AUTHENTICATION_FAILED' || error.reason === 'TLS' || error.reason === 'REFUSED_ADDRESS') {
        // The mailbox is broken, not the message: it waits until the mailbox is connected again.
        const mailbox = await transaction.findOneOrFail(Mailbox, { id: current.mailboxId! });
        mailbox.status = MailboxStatus.FAILING;
        mailbox.lastError = error.message;
        current.status = MessageStatus.SCHEDULED;
        await enqueueSend(transaction, current, new Date(Date.now() + mailboxRecheckMs));
        return;
      }
      if (error.isRetryable && !lastAttempt) {
        current.status = MessageStatus.SCHEDULED;
        outcome = 'retry';
        return;
      }
      current.status = MessageStatus.FAILED;
      if (error.reason === 'MESSAGE_REJECTED') await scheduleNextStep(transaction, current, new Date());
    });
    if (outcome === 'done' && !bounced) {
      await dependencies.events.publish({ tenantId: message.tenantId, conversationId: message.conversationId, type: ConversationEventType.MESSAGE_FAILED, messageId: message.id });
    }
    if (bounced) await dependencies.events.publish({ tenantId: message.tenantId, conversationId: message.conversationId, type: ConversationEventType.STATE_CHANGED, state: ConversationState.BOUNCED, messageId: message.id });
    return outcome;
  };

  const task: Task = async (payload, helpers) => {
    const { tenantId, messageId } = payload as { tenantId?: string; messageId?: string };
    if (typeof tenantId !== 'string' || typeof messageId !== 'string') throw new Error('a send task needs { tenantId, messageId }');
    const em = database.forkForTenant(tenantId);
    const claimed = await claim(em, messageId);
    if (!claimed.send) return;
    const { message, conversation, mailbox } = claimed;
    let response: string;
    try {
      const sender = await senderFor(em, mailbox);
      ({ response } = await sender.send({
        from: { name: mailbox.displayName, address: mailbox.address },
        to: { name: [conversation.leadFirstName, conversation.leadLastName].filter(Boolean).join(' ') || null, address: message.toAddress! },
        subject: message.subject,
        text: message.body,
        messageId: message.messageIdHeader!,
        inReplyTo: message.inReplyTo,
        references: message.referenceIds,
        headers: headersFor(message, conversation, mailbox),
      }));
    } catch (error) {
      const failure = error instanceof MailServerError ? error : new MailServerError(`sending failed: ${(error as Error).message}`, 'PROTOCOL', undefined, { cause: error });
      logger.warn({ messageId, mailboxId: mailbox.id, reason: failure.reason, attempt: helpers.job.attempts }, `could not send a message: ${failure.message}`);
      if ((await recordFailure(em, message, failure, helpers)) === 'retry') throw failure;
      return;
    }
    await recordSent(em, message, response);
  };

  return {
    task,
    close() {
      for (const { sender } of senders.values()) sender.close();
      senders.clear();
    },
  };
}
