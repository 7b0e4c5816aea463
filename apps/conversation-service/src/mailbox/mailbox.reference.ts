import type { SubgraphContext } from '@gtm/runtime';
import type { ConversationLoaders } from '../loaders.js';
import type { MailboxService } from './mailbox.service.js';

/** Resolves `Mailbox` references (a subscription event's mailbox …), batched, tenant-scoped. */
export const mailboxReference = (mailboxService: MailboxService) => ({
  Mailbox: {
    __resolveReference: async (reference: { id?: unknown }, context: SubgraphContext<ConversationLoaders>) => {
      const mailbox = await context.loaders.mailboxById.load(String(reference.id));
      return mailbox && mailboxService.toType(mailbox);
    },
  },
});
