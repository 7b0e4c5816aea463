import type { FilterQuery } from '@mikro-orm/core';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { badUserInput, isUuid, notFound, paginate, parseInput, upstreamUnavailable, UpstreamError, type ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import type { ConversationLoaders } from '../loaders.js';
import { MessageStatus, type Message } from '../message/message.entity.js';
import type { CrmClient } from '../upstream/crm.client.js';
import { ConversationEvents, ConversationEventType } from './conversation-events.js';
import { canTransition, ConversationState, isOpen } from './conversation-state.js';
import type { ConversationStateService } from './conversation-state.service.js';
import { Conversation, ConversationStatus, statesOf } from './conversation.entity.js';
import type { ConversationFilter, StartConversationInput } from './conversation.input.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

// Lower-cased because PostgreSQL returns uuids lower-case, and the group loaders match keys exactly.
const uuidSchema = (what: string) =>
  z
    .string()
    .trim()
    .refine(isUuid, `must be the id of a ${what}`)
    .transform((value) => value.toLowerCase());

const startConversationSchema = z.object({
  leadId: uuidSchema('lead'),
  campaignId: uuidSchema('campaign').nullish().transform((value) => value ?? null),
  subject: z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters'),
});

// Nested under `filter` so that an error names the argument as the client wrote it: filter.leadId.
const conversationFilterSchema = z.object({
  filter: z.object({
    leadId: uuidSchema('lead').nullish(),
    campaignId: uuidSchema('campaign').nullish(),
    mailboxId: uuidSchema('mailbox').nullish(),
    status: z.array(z.enum(ConversationStatus)).nullish(),
    state: z.array(z.enum(ConversationState)).nullish(),
  }),
});

export interface ConversationServiceOptions {
  crm: CrmClient;
  states: ConversationStateService;
  events: ConversationEvents;
}

export class ConversationService {
  constructor(private readonly options: ConversationServiceOptions) {}

  async get(context: ConversationContext, id: string): Promise<Conversation | null> {
    return context.loaders.conversationById.load(id);
  }

  async list(context: ConversationContext, filter: ConversationFilter | undefined, args: ConnectionArgs) {
    const { filter: fields } = parseInput(conversationFilterSchema, { filter: { ...filter } });
    const where: FilterQuery<Conversation>[] = [];
    if (fields.leadId) where.push({ leadId: fields.leadId });
    if (fields.campaignId) where.push({ campaignId: fields.campaignId });
    if (fields.mailboxId) where.push({ mailboxId: fields.mailboxId });
    if (fields.status?.length) where.push({ state: { $in: fields.status.flatMap(statesOf) } });
    if (fields.state?.length) where.push({ state: { $in: fields.state } });
    return paginate(context.em, Conversation, where.length > 0 ? { $and: where } : {}, args);
  }

  async listForLead(context: ConversationContext, leadId: string): Promise<Conversation[]> {
    return context.loaders.conversationsByLeadId.load(leadId);
  }

  async listForCampaign(context: ConversationContext, campaignId: string): Promise<Conversation[]> {
    return context.loaders.conversationsByCampaignId.load(campaignId);
  }

  /** Its messages, oldest first. */
  async messages(context: ConversationContext, conversation: Conversation, first: number): Promise<Message[]> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw badUserInput('`first` must be between 1 and 500.', 'first');
    return (await context.loaders.messagesByConversationId.load(conversation.id)).slice(0, first);
  }

  /** The newest draft waiting for approval, or null. */
  async pendingReply(context: ConversationContext, conversation: Conversation): Promise<Message | null> {
    const messages = await context.loaders.messagesByConversationId.load(conversation.id);
    return messages.filter((message) => message.status === MessageStatus.PENDING_APPROVAL).at(-1) ?? null;
  }

  /** When the next message is booked to go out; for NURTURE, the follow-up date. */
  async nextSendAt(context: ConversationContext, conversation: Conversation): Promise<Date | null> {
    const messages = await context.loaders.messagesByConversationId.load(conversation.id);
    const booked = messages.filter((message) => message.status === MessageStatus.SCHEDULED && message.scheduledAt).map((message) => message.scheduledAt!.getTime());
    if (booked.length > 0) return new Date(Math.min(...booked));
    return conversation.state === ConversationState.NURTURE ? conversation.followUpAt : null;
  }

  /**
   * Opens a conversation by hand with a lead of the caller's tenant: the lead is looked up in
   * crm-service first, so an id of another tenant's lead, or of none, is refused and never stored.
   */
  async start(context: ConversationContext, input: StartConversationInput): Promise<Conversation> {
    const fields = parseInput(startConversationSchema, input);
    let leads;
    try {
      leads = await this.options.crm.leadsById(context.callerToken, [fields.leadId]);
    } catch (error) {
      if (error instanceof UpstreamError) throw upstreamUnavailable(`${error.service} could not answer; try again shortly.`, { service: error.service });
      throw error;
    }
    const lead = leads.get(fields.leadId);
    if (!lead) throw notFound('Lead', fields.leadId);
    const conversation = context.em.create(Conversation, {
      ...fields,
      tenantId: context.caller.tenantId,
      state: ConversationState.INITIAL_OUTREACH,
      leadEmail: lead.email,
      leadFirstName: lead.firstName,
      leadLastName: lead.lastName,
      leadCompany: lead.companyName,
    });
    try {
      await context.em.persist(conversation).flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw badUserInput(`Lead ${fields.leadId} already has an open conversation; close it first.`, 'leadId');
      }
      throw error;
    }
    return conversation;
  }

  /** Closes a conversation and stops what it had not sent; closing a closed one changes nothing. */
  async close(context: ConversationContext, id: string): Promise<Conversation> {
    const conversation = await this.get(context, id);
    if (!conversation) throw notFound('Conversation', id);
    if (!isOpen(conversation.state) || !canTransition(conversation.state, ConversationState.CLOSED)) return conversation;
    await context.em.transactional(async (transaction) => {
      const current = transaction.merge(conversation);
      this.options.states.apply(current, ConversationState.CLOSED, 'closed by a person');
      current.closeReason = 'Closed by a person.';
      await this.options.states.stopPending(transaction, current, 'The conversation was closed.');
    });
    await this.options.events.publish({ tenantId: conversation.tenantId, conversationId: conversation.id, type: ConversationEventType.STATE_CHANGED, state: ConversationState.CLOSED });
    return conversation;
  }
}
