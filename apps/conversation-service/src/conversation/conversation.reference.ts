import type { SubgraphContext } from '@gtm/runtime';
import type { ConversationLoaders } from '../loaders.js';

/** Resolves `Conversation` references from other subgraphs, batched: 100 references, one query. */
export const conversationReference = {
  Conversation: {
    __resolveReference: (reference: { id?: unknown }, context: SubgraphContext<ConversationLoaders>) =>
      context.loaders.conversationById.load(String(reference.id)),
  },
};
