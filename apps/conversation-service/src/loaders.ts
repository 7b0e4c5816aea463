import { createEntityLoader, createGroupLoader, type EntityManager } from '@gtm/runtime';
import { Conversation } from './conversation/conversation.entity.js';
import { Mailbox } from './mailbox/mailbox.entity.js';

// Newest first, with the id breaking ties so the order is the same on every read.
const newestFirst = { createdAt: 'desc', id: 'desc' } as const;

export function createConversationLoaders(em: EntityManager) {
  return {
    conversationById: createEntityLoader(em, Conversation),
    conversationsByLeadId: createGroupLoader(em, Conversation, 'leadId', { orderBy: newestFirst }),
    conversationsByCampaignId: createGroupLoader(em, Conversation, 'campaignId', { orderBy: newestFirst }),
    mailboxById: createEntityLoader(em, Mailbox),
  };
}

export type ConversationLoaders = ReturnType<typeof createConversationLoaders>;
