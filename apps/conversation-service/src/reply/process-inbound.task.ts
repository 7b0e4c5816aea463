import { LockMode } from '@mikro-orm/core';
import { enqueueTask } from '@gtm/jobs';
import type { Llm, LlmAttribution } from '@gtm/llm';
import type { Database, EntityManager, Logger } from '@gtm/runtime';
import type { Task } from 'graphile-worker';
import { ConversationEvents, ConversationEventType } from '../conversation/conversation-events.js';
import { Conversation, type BantFacts } from '../conversation/conversation.entity.js';
import { ConversationState, ImpossibleTransitionError } from '../conversation/conversation-state.js';
import type { ConversationStateService } from '../conversation/conversation-state.service.js';
import { Enrollment } from '../enrollment/enrollment.entity.js';
import { bounceKindOf, type BounceKind } from '../mail/delivery-status.js';
import { newMessageId } from '../mail/message-id.js';
import { Mailbox, MailboxStatus } from '../mailbox/mailbox.entity.js';
import { Message, MessageDirection, MessageKind, MessageStatus } from '../message/message.entity.js';
import { bookSend, lockMailboxForBooking } from '../message/send-booking.js';
import type { CampaignGrounding } from '../upstream/campaign.client.js';
import { answeredIntents, replyDraftTask, type DraftContext } from './reply-draft.task.js';
import { ReplyIntent } from './reply-intent.js';
import { replyUnderstandingTask, understandOffline, type ReplyUnderstanding } from './reply-understanding.task.js';

export const nurtureFollowUpTask = 'conversation.nurture-follow-up';
export const draftReplyTask = 'conversation.draft-reply';

/** Where an intent takes a conversation; intents without an entry leave the state as it is. */
const stateFor: Partial<Record<ReplyIntent, ConversationState>> = {
  [ReplyIntent.INTERESTED]: ConversationState.QUALIFYING,
  [ReplyIntent.INFORMATION_REQUEST]: ConversationState.QUALIFYING,
  [ReplyIntent.MEETING_REQUEST]: ConversationState.SCHEDULING,
  [ReplyIntent.OBJECTION]: ConversationState.OBJECTION_HANDLING,
  [ReplyIntent.NOT_NOW]: ConversationState.NURTURE,
  [ReplyIntent.NOT_INTERESTED]: ConversationState.CLOSED,
  [ReplyIntent.WRONG_PERSON]: ConversationState.CLOSED,
};

/** How long a soft-bounced message waits before it is sent again: 1 h, 4 h, 16 h. */
const softBounceDelaysMs = [3_600_000, 4 * 3_600_000, 16 * 3_600_000];
/** NOT_NOW without a date the lead named: write again in this many days. */
const defaultNurtureDays = 90;

const notWritten = (grounding: CampaignGrounding | null): CampaignGrounding =>
  grounding ?? { campaignName: '', websiteUrl: '', companyName: null, description: null, keyFeatures: [], pricing: null, uniqueInsight: null, valuePropositions: [], differentiators: [], objections: [], sources: [] };

export interface ProcessInboundDependencies {
  database: Database;
  llm: Llm;
  states: ConversationStateService;
  events: ConversationEvents;
  logger: Logger;
  /** AUTO_SEND_MIN_CONFIDENCE: below it a draft waits for a person even without requireApproval. */
  autoSendMinConfidence: number;
}

/**
 * Understands one inbound message and acts on it. A bounce report bounces the conversation (hard)
 * or sends the message again later (soft); an automatic reply changes nothing; a lead's reply stops
 * the sequence at once, then its intent and BANT facts are read (a model through libs/llm, or the
 * offline rules), the conversation moves as the state machine allows, and the next message is
 * drafted from the campaign for a person to approve.
 */
export function createProcessInboundTasks(dependencies: ProcessInboundDependencies): { process: Task; draft: Task; nurture: Task } {
  const { database, logger, states, events } = dependencies;

  const publish = (message: Message, type: ConversationEventType, extra: { state?: string | null; intent?: string | null; messageId?: string } = {}) =>
    events.publish({ tenantId: message.tenantId, conversationId: message.conversationId, type, messageId: extra.messageId ?? message.id, state: extra.state ?? null, intent: extra.intent ?? null });

  /** A DSN: hard → BOUNCED and suppressed; soft → the returned message goes out again later; delayed → nothing. */
  const processReport = async (em: EntityManager, message: Message) => {
    let changed: ConversationState | null = null;
    let kind: BounceKind = 'NONE';
    await em.transactional(async (transaction) => {
      const current = await transaction.findOneOrFail(Message, { id: message.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (current.status !== MessageStatus.RECEIVED) return;
      const conversation = await transaction.findOneOrFail(Conversation, { id: current.conversationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const recipients = current.deliveryStatus?.recipients ?? [];
      const aboutLead = recipients.filter((recipient) => !conversation.leadEmail || !recipient.recipient || recipient.recipient === conversation.leadEmail);
      const kinds = aboutLead.map(bounceKindOf);
      kind = kinds.includes('HARD') ? 'HARD' : kinds.includes('SOFT') ? 'SOFT' : 'NONE';
      const original = current.answersMessageId ? await transaction.findOne(Message, { id: current.answersMessageId }) : null;
      const detail = aboutLead.map((recipient) => `${recipient.status ?? recipient.action}${recipient.diagnostic ? ` ${recipient.diagnostic}` : ''}`).join('; ') || 'delivery failed';
      if (kind === 'SOFT' && original && original.bounceRetries < softBounceDelaysMs.length && [ConversationState.INITIAL_OUTREACH, ConversationState.AWAITING_RESPONSE].includes(conversation.state) && original.mailboxId) {
        const retryAt = new Date(Date.now() + softBounceDelaysMs[original.bounceRetries]!);
        const booking = await lockMailboxForBooking(transaction, original.mailboxId, { from: retryAt, horizonDays: 3 });
        original.error = `Soft bounce (${detail}); sent again later.`;
        await bookSend(transaction, booking!.planner, original, retryAt);
        original.bounceRetries += 1;
      } else if (kind !== 'NONE') {
        kind = 'HARD';
        if (original) {
          original.status = MessageStatus.BOUNCED;
          original.error = detail.slice(0, 1_000);
        }
        if (conversation.state !== ConversationState.BOUNCED && conversation.state !== ConversationState.UNSUBSCRIBED) changed = await states.bounce(transaction, conversation, `Bounced: ${detail}`.slice(0, 500));
      }
      current.status = MessageStatus.PROCESSED;
      current.intent = kind === 'NONE' ? null : ReplyIntent.BOUNCE;
      current.confidence = kind === 'NONE' ? null : 1;
    });
    logger.info({ messageId: message.id, conversationId: message.conversationId, bounce: kind }, 'delivery report processed');
    if (kind !== 'NONE') await publish(message, ConversationEventType.INTENT_CLASSIFIED, { intent: ReplyIntent.BOUNCE });
    if (changed) await publish(message, ConversationEventType.STATE_CHANGED, { state: changed });
  };

  const processAutoReply = async (em: EntityManager, message: Message) => {
    const changed = await em.nativeUpdate(Message, { id: message.id, status: MessageStatus.RECEIVED }, { status: MessageStatus.PROCESSED, intent: ReplyIntent.OUT_OF_OFFICE, confidence: 1 });
    if (changed > 0) await publish(message, ConversationEventType.INTENT_CLASSIFIED, { intent: ReplyIntent.OUT_OF_OFFICE });
  };

  const processReply = async (em: EntityManager, message: Message, attribution: LlmAttribution, lastAttempt: boolean) => {
    // The sequence stops the moment a person answers, before anything slower happens.
    const conversation = await em.transactional(async (transaction) => {
      const current = await transaction.findOneOrFail(Conversation, { id: message.conversationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      await states.stopPending(transaction, current, 'The lead replied: the sequence stopped.');
      return current;
    });
    const previous = await em.findOne(Message, { conversationId: conversation.id, direction: MessageDirection.OUTBOUND, sentAt: { $ne: null } }, { orderBy: { sentAt: 'desc' } });
    const today = new Date().toISOString().slice(0, 10);
    const context = { replyText: message.body, subject: message.subject, previousMessage: previous?.body ?? null, leadFirstName: conversation.leadFirstName, today };
    let understood: { object: ReplyUnderstanding; provider: string; confidence?: number };
    try {
      understood = await dependencies.llm.generateObject({ task: replyUnderstandingTask, context, prompt: replyUnderstandingTask.buildPrompt(context), attribution });
    } catch (error) {
      if (!lastAttempt) throw error;
      // No model answered on any attempt: the offline rules still read the reply, so it is never left unread.
      logger.warn({ err: error, messageId: message.id }, 'no model could read a reply; reading it with the offline rules');
      understood = { object: understandOffline(context), provider: 'offline', confidence: 0.3 };
    }
    const understanding = understood.object;
    // The offline rules report low confidence whatever the rule's own certainty: they are not AI.
    const confidence = Math.min(understanding.confidence, understood.confidence ?? 1);
    const followUpDate = understanding.intent === ReplyIntent.NOT_NOW ? (understanding.followUpDate ?? new Date(Date.now() + defaultNurtureDays * 86_400_000).toISOString().slice(0, 10)) : null;

    const outcome = await em.transactional(async (transaction) => {
      const current = await transaction.findOneOrFail(Message, { id: message.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (current.status !== MessageStatus.RECEIVED) return null;
      const locked = await transaction.findOneOrFail(Conversation, { id: message.conversationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      current.status = MessageStatus.PROCESSED;
      current.intent = understanding.intent;
      current.confidence = confidence;
      current.bant = understanding.bant;
      current.author = understood.provider;
      locked.intent = understanding.intent;
      locked.intentConfidence = confidence;
      locked.bant = mergeBant(locked.bant, understanding.bant);
      let changed: ConversationState | null = null;
      let refused = false;
      try {
        if (understanding.intent === ReplyIntent.UNSUBSCRIBE) changed = await states.unsubscribe(transaction, locked, 'asked in a reply');
        else if (understanding.intent === ReplyIntent.BOUNCE) changed = await states.bounce(transaction, locked, 'the reply reports a delivery failure');
        else {
          const target = stateFor[understanding.intent];
          if (target) changed = states.apply(locked, target, `reply intent ${understanding.intent}`);
          // An unclear reply still ends the outreach: a person reads it.
          else if (understanding.intent === ReplyIntent.OTHER && locked.state === ConversationState.INITIAL_OUTREACH) changed = states.apply(locked, ConversationState.AWAITING_RESPONSE, 'unclear reply');
        }
      } catch (error) {
        if (!(error instanceof ImpossibleTransitionError)) throw error;
        // Never applied quietly: recorded on the message, logged, and nothing is drafted.
        refused = true;
        current.error = `Not applied: ${error.message}.`;
        logger.warn({ conversationId: locked.id, messageId: current.id, from: error.from, to: error.to }, 'refused an impossible conversation transition');
      }
      if (understanding.intent === ReplyIntent.NOT_INTERESTED || understanding.intent === ReplyIntent.WRONG_PERSON) {
        locked.closeReason = understanding.intent === ReplyIntent.WRONG_PERSON ? `Wrong person${understanding.referral ? `; suggested: ${understanding.referral}` : ''}.` : 'Not interested.';
      }
      if (locked.state === ConversationState.NURTURE && followUpDate && !refused) {
        locked.followUpAt = new Date(`${followUpDate}T09:00:00Z`);
        await enqueueTask(transaction, { task: nurtureFollowUpTask, payload: { tenantId: locked.tenantId, conversationId: locked.id }, runAt: locked.followUpAt, jobKey: `conversation-nurture:${locked.id}` });
      }
      // What the reply means for the lead, for crm-service and the CRMs behind it (unsubscribes and
      // bounces are told by the state service).
      if (!refused && ![ReplyIntent.UNSUBSCRIBE, ReplyIntent.BOUNCE, ReplyIntent.OUT_OF_OFFICE].includes(understanding.intent)) {
        const leadOutcome = understanding.intent === ReplyIntent.NOT_INTERESTED ? 'DISQUALIFIED' : locked.state === ConversationState.SCHEDULING ? 'QUALIFIED' : 'ENGAGED';
        await states.publishOutcome(transaction, locked, leadOutcome, { intent: understanding.intent, reason: understanding.summary || null });
      }
      const open = ![ConversationState.UNSUBSCRIBED, ConversationState.BOUNCED].includes(locked.state);
      // The answer is drafted by a task of its own: the intent and the state are visible at once,
      // and a model that fails while drafting is retried without reading the reply again.
      if (answeredIntents.has(understanding.intent) && !refused && open && locked.mailboxId) {
        await enqueueTask(transaction, {
          task: draftReplyTask,
          payload: { tenantId: locked.tenantId, messageId: current.id, question: understanding.question, followUpDate },
          jobKey: `conversation-draft:${current.id}`,
          maxAttempts: 6,
        });
      }
      return { changed };
    });
    if (!outcome) return;
    logger.info({ messageId: message.id, conversationId: message.conversationId, intent: understanding.intent, confidence, provider: understood.provider }, 'reply understood');
    await publish(message, ConversationEventType.INTENT_CLASSIFIED, { intent: understanding.intent });
    if (outcome.changed) await publish(message, ConversationEventType.STATE_CHANGED, { state: outcome.changed });
  };

  /** Drafts the answer to one understood reply, grounded in the campaign as enrolled. */
  const draft: Task = async (payload) => {
    const { tenantId, messageId, question, followUpDate } = payload as { tenantId?: string; messageId?: string; question?: string | null; followUpDate?: string | null };
    if (typeof tenantId !== 'string' || typeof messageId !== 'string') throw new Error('a draft task needs { tenantId, messageId }');
    const em = database.forkForTenant(tenantId);
    const inbound = await em.findOne(Message, { id: messageId });
    if (!inbound || inbound.status !== MessageStatus.PROCESSED || !inbound.intent) return;
    const conversation = await em.findOneOrFail(Conversation, { id: inbound.conversationId });
    const mailbox = conversation.mailboxId ? await em.findOne(Mailbox, { id: conversation.mailboxId }) : null;
    if (!mailbox) return;
    const enrollment = conversation.enrollmentId ? await em.findOne(Enrollment, { id: conversation.enrollmentId }, { populate: ['grounding'] }) : null;
    const intent = inbound.intent as ReplyIntent;
    const context: DraftContext = {
      intent,
      replyText: inbound.body,
      question: question ?? null,
      leadFirstName: conversation.leadFirstName,
      leadCompany: conversation.leadCompany,
      senderName: mailbox.displayName,
      grounding: notWritten(enrollment?.grounding ?? null),
      followUpDate: followUpDate ?? null,
      checkIn: false,
    };
    const drafted = await dependencies.llm.generateObject({ task: replyDraftTask, context, prompt: replyDraftTask.buildPrompt(context), attribution: { tenantId } });
    const reply = await em.transactional(async (transaction) => {
      const locked = await transaction.findOneOrFail(Conversation, { id: conversation.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if ([ConversationState.UNSUBSCRIBED, ConversationState.BOUNCED].includes(locked.state)) return null;
      // Answered already (a retried task), or a newer reply arrived meanwhile: that one gets the answer.
      if ((await transaction.count(Message, { answersMessageId: inbound.id, direction: MessageDirection.OUTBOUND })) > 0) return null;
      const newer = await transaction.count(Message, { conversationId: locked.id, direction: MessageDirection.INBOUND, kind: MessageKind.LEAD_REPLY, createdAt: { $gt: inbound.createdAt } });
      if (newer > 0) return null;
      const created = transaction.create(Message, {
        tenantId,
        conversationId: locked.id,
        mailboxId: mailbox.id,
        direction: MessageDirection.OUTBOUND,
        kind: MessageKind.REPLY,
        status: MessageStatus.PENDING_APPROVAL,
        subject: replySubject(inbound.subject),
        body: drafted.object.body,
        messageIdHeader: newMessageId(mailbox.address),
        inReplyTo: inbound.messageIdHeader,
        referenceIds: [...inbound.referenceIds, ...(inbound.messageIdHeader ? [inbound.messageIdHeader] : [])].slice(-20),
        fromAddress: mailbox.address,
        toAddress: locked.leadEmail,
        intent,
        confidence: Math.min(inbound.confidence ?? 0, drafted.object.confidence, drafted.confidence ?? 1),
        author: drafted.provider,
        answersMessageId: inbound.id,
      });
      // Without requireApproval the engine sends what it is sure of; anything less waits for a person.
      if (!locked.requireApproval && created.confidence! >= dependencies.autoSendMinConfidence && mailbox.status === MailboxStatus.ACTIVE) {
        const booking = await lockMailboxForBooking(transaction, mailbox.id, { horizonDays: 3 });
        created.decidedAt = new Date();
        await bookSend(transaction, booking!.planner, created, new Date());
      }
      return created;
    });
    if (reply?.status === MessageStatus.PENDING_APPROVAL) await publish(inbound, ConversationEventType.DRAFT_READY, { messageId: reply.id, intent });
  };

  const process: Task = async (payload, helpers) => {
    const { tenantId, messageId } = payload as { tenantId?: string; messageId?: string };
    if (typeof tenantId !== 'string' || typeof messageId !== 'string') throw new Error('an inbound task needs { tenantId, messageId }');
    const em = database.forkForTenant(tenantId);
    const message = await em.findOne(Message, { id: messageId });
    if (!message || message.status !== MessageStatus.RECEIVED) return;
    if (message.kind === MessageKind.DELIVERY_REPORT) return processReport(em, message);
    if (message.kind === MessageKind.AUTO_REPLY) return processAutoReply(em, message);
    return processReply(em, message, { tenantId }, helpers.job.attempts >= helpers.job.max_attempts);
  };

  /** On a NURTURE conversation's follow-up date: a check-in drafted for a person to approve. */
  const nurture: Task = async (payload) => {
    const { tenantId, conversationId } = payload as { tenantId?: string; conversationId?: string };
    if (typeof tenantId !== 'string' || typeof conversationId !== 'string') throw new Error('a nurture task needs { tenantId, conversationId }');
    const em = database.forkForTenant(tenantId);
    const conversation = await em.findOne(Conversation, { id: conversationId });
    if (!conversation || conversation.state !== ConversationState.NURTURE || !conversation.mailboxId) return;
    const mailbox = await em.findOne(Mailbox, { id: conversation.mailboxId });
    const enrollment = conversation.enrollmentId ? await em.findOne(Enrollment, { id: conversation.enrollmentId }, { populate: ['grounding'] }) : null;
    const last = await em.findOne(Message, { conversationId, direction: MessageDirection.INBOUND }, { orderBy: { createdAt: 'desc' } });
    if (!mailbox) return;
    const context: DraftContext = {
      intent: ReplyIntent.NOT_NOW,
      replyText: last?.body ?? '',
      question: null,
      leadFirstName: conversation.leadFirstName,
      leadCompany: conversation.leadCompany,
      senderName: mailbox.displayName,
      grounding: notWritten(enrollment?.grounding ?? null),
      followUpDate: null,
      checkIn: true,
    };
    const drafted = await dependencies.llm.generateObject({ task: replyDraftTask, context, prompt: replyDraftTask.buildPrompt(context), attribution: { tenantId } });
    const created = await em.transactional(async (transaction) => {
      const locked = await transaction.findOneOrFail(Conversation, { id: conversationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (locked.state !== ConversationState.NURTURE) return null;
      const pending = await transaction.count(Message, { conversationId, kind: MessageKind.FOLLOW_UP, status: MessageStatus.PENDING_APPROVAL });
      if (pending > 0) return null;
      return transaction.create(Message, {
        tenantId,
        conversationId,
        mailboxId: mailbox.id,
        direction: MessageDirection.OUTBOUND,
        kind: MessageKind.FOLLOW_UP,
        status: MessageStatus.PENDING_APPROVAL,
        subject: replySubject(last?.subject ?? locked.subject),
        body: drafted.object.body,
        messageIdHeader: newMessageId(mailbox.address),
        inReplyTo: last?.messageIdHeader ?? null,
        referenceIds: [...(last?.referenceIds ?? []), ...(last?.messageIdHeader ? [last.messageIdHeader] : [])].slice(-20),
        fromAddress: mailbox.address,
        toAddress: locked.leadEmail,
        intent: ReplyIntent.NOT_NOW,
        confidence: Math.min(drafted.object.confidence, drafted.confidence ?? 1),
        author: drafted.provider,
      });
    });
    if (created) await events.publish({ tenantId, conversationId, type: ConversationEventType.DRAFT_READY, messageId: created.id, intent: ReplyIntent.NOT_NOW });
  };

  return { process, draft, nurture };
}

/** `Re: <subject>` once, whatever prefixes (Re:, AW:, RE:, Fwd:) the lead's client put there. */
export function replySubject(subject: string): string {
  return `Re: ${subject.replace(/^(\s*(re|aw|sv|antw|fwd?|wg)\s*:\s*)+/i, '').trim()}`.slice(0, 300);
}

/** Facts stated before stay until a later reply states them again. */
function mergeBant(before: BantFacts | null, now: ReplyUnderstanding['bant']): BantFacts {
  return {
    budget: now.budget ?? before?.budget ?? null,
    authority: now.authority ?? before?.authority ?? null,
    need: now.need ?? before?.need ?? null,
    timeline: now.timeline ?? before?.timeline ?? null,
  };
}
