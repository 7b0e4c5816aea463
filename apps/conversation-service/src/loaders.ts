import { createEntityLoader, createGroupLoader, type EntityManager } from '@gtm/runtime';
import { Conversation } from './conversation/conversation.entity.js';
import { Enrollment } from './enrollment/enrollment.entity.js';
import { Mailbox } from './mailbox/mailbox.entity.js';
import { Message } from './message/message.entity.js';

// Newest first, with the id breaking ties so the order is the same on every read.
const newestFirst = { createdAt: 'desc', id: 'desc' } as const;
// A thread reads oldest first; a sequence's steps are created in order in one transaction, so their
// step number breaks the tie of an equal creation time.
const threadOrder = { createdAt: 'asc', step: 'asc', id: 'asc' } as const;

export function createConversationLoaders(em: EntityManager) {
  return {
    conversationById: createEntityLoader(em, Conversation),
    conversationsByLeadId: createGroupLoader(em, Conversation, 'leadId', { orderBy: newestFirst }),
    conversationsByCampaignId: createGroupLoader(em, Conversation, 'campaignId', { orderBy: newestFirst }),
    mailboxById: createEntityLoader(em, Mailbox),
    enrollmentById: createEntityLoader(em, Enrollment),
    messageById: createEntityLoader(em, Message),
    messagesByConversationId: createGroupLoader(em, Message, 'conversationId', { orderBy: threadOrder }),
  };
}

export type ConversationLoaders = ReturnType<typeof createConversationLoaders>;
