import type { SubgraphContext } from '@gtm/runtime';
import type { ConversationLoaders } from '../loaders.js';
import { toMessageType } from './message.type.js';

/** Resolves `Message` references (a subscription event's message), batched, tenant-scoped. */
export const messageReference = {
  Message: {
    __resolveReference: async (reference: { id?: unknown }, context: SubgraphContext<ConversationLoaders>) => {
      const message = await context.loaders.messageById.load(String(reference.id));
      return message && toMessageType(message);
    },
  },
};
