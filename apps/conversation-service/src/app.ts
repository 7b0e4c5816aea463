import { createSecretBox } from '@gtm/secrets';
import { HostAllowlist, startSubgraphApp, type HostLookup, type Logger, type SubgraphApp } from '@gtm/runtime';
import { CampaignConversationsResolver } from './campaign/campaign.resolver.js';
import type { ConversationConfig } from './config.js';
import { Conversation } from './conversation/conversation.entity.js';
import { ConversationResolver } from './conversation/conversation.resolver.js';
import { ConversationService } from './conversation/conversation.service.js';
import { LeadConversationsResolver } from './lead/lead.resolver.js';
import { createConversationLoaders } from './loaders.js';
import { MailConnector } from './mail/mail-connector.js';
import { Mailbox } from './mailbox/mailbox.entity.js';
import { mailboxReference } from './mailbox/mailbox.reference.js';
import { MailboxResolver } from './mailbox/mailbox.resolver.js';
import { MailboxService } from './mailbox/mailbox.service.js';
import { migrations } from './migrations/index.js';
import { buildConversationSchema } from './schema.js';

export interface ConversationAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
  /** How mail server names resolve, for tests. Default: the system resolver. */
  mailHostLookup?: HostLookup;
}

export interface ConversationServices {
  mailboxes: MailboxService;
}

export interface ConversationApp extends SubgraphApp {
  services: ConversationServices;
}

/** The composition root of the conversation service: builds its services and resolvers, then starts it. */
export async function createApp(config: ConversationConfig, overrides: ConversationAppOverrides = {}): Promise<ConversationApp> {
  const { mailHostLookup, ...appOverrides } = overrides;
  const secrets = createSecretBox({ keys: config.SECRETS_KEY });
  const mail = new MailConnector({ allowlist: new HostAllowlist(config.MAIL_HOST_ALLOWLIST), timeoutMs: config.MAIL_CONNECT_TIMEOUT_MS, idleRenewMs: config.MAILBOX_POLL_INTERVAL_MS, lookup: mailHostLookup });
  const conversationService = new ConversationService();
  const mailboxService = new MailboxService({ secrets, mail, publicUrl: config.GATEWAY_PUBLIC_URL });
  const resolvers = new Map<Function, object>([
    [ConversationResolver, new ConversationResolver(conversationService)],
    [LeadConversationsResolver, new LeadConversationsResolver(conversationService)],
    [CampaignConversationsResolver, new CampaignConversationsResolver(conversationService)],
    [MailboxResolver, new MailboxResolver(mailboxService)],
  ]);
  const app = await startSubgraphApp({
    name: 'conversation-service',
    config,
    entities: [Conversation, Mailbox],
    migrations,
    buildSchema: () => buildConversationSchema({ get: (resolverClass) => resolvers.get(resolverClass) }, mailboxReference(mailboxService)),
    createLoaders: createConversationLoaders,
    ...appOverrides,
  });
  return { ...app, services: { mailboxes: mailboxService } };
}
