import type { FilterQuery } from '@mikro-orm/core';
import { isUuid, notFound, paginate, parseInput, type ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import type { ConversationLoaders } from '../loaders.js';
import { Conversation, ConversationStatus } from './conversation.entity.js';
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
    status: z.array(z.enum(ConversationStatus)).nullish(),
  }),
});

export class ConversationService {
  async get(context: ConversationContext, id: string): Promise<Conversation | null> {
    return context.loaders.conversationById.load(id);
  }

  async list(context: ConversationContext, filter: ConversationFilter | undefined, args: ConnectionArgs) {
    const { filter: fields } = parseInput(conversationFilterSchema, { filter: { ...filter } });
    const where: FilterQuery<Conversation>[] = [];
    if (fields.leadId) where.push({ leadId: fields.leadId });
    if (fields.campaignId) where.push({ campaignId: fields.campaignId });
    if (fields.status?.length) where.push({ status: { $in: fields.status } });
    return paginate(context.em, Conversation, where.length > 0 ? { $and: where } : {}, args);
  }

  async listForLead(context: ConversationContext, leadId: string): Promise<Conversation[]> {
    return context.loaders.conversationsByLeadId.load(leadId);
  }

  async listForCampaign(context: ConversationContext, campaignId: string): Promise<Conversation[]> {
    return context.loaders.conversationsByCampaignId.load(campaignId);
  }

  /**
   * Opens a conversation. The lead and campaign live in other services, so only the shape of their
   * ids is checked here; a reference to a missing lead resolves to null at the gateway.
   */
  async start(context: ConversationContext, input: StartConversationInput): Promise<Conversation> {
    const fields = parseInput(startConversationSchema, input);
    const conversation = context.em.create(Conversation, {
      ...fields,
      tenantId: context.caller.tenantId,
      status: ConversationStatus.OPEN,
    });
    await context.em.persist(conversation).flush();
    return conversation;
  }

  async close(context: ConversationContext, id: string): Promise<Conversation> {
    const conversation = await this.get(context, id);
    if (!conversation) throw notFound('Conversation', id);
    if (conversation.status === ConversationStatus.CLOSED) return conversation;
    conversation.status = ConversationStatus.CLOSED;
    await context.em.flush();
    return conversation;
  }
}
