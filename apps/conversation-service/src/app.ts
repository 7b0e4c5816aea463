import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { CampaignConversationsResolver } from './campaign/campaign.resolver.js';
import type { ConversationConfig } from './config.js';
import { Conversation } from './conversation/conversation.entity.js';
import { ConversationResolver } from './conversation/conversation.resolver.js';
import { ConversationService } from './conversation/conversation.service.js';
import { LeadConversationsResolver } from './lead/lead.resolver.js';
import { createConversationLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildConversationSchema } from './schema.js';

export interface ConversationAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
}

/** The composition root of the conversation service: builds its services and resolvers, then starts it. */
export async function createApp(config: ConversationConfig, overrides: ConversationAppOverrides = {}): Promise<SubgraphApp> {
  const conversationService = new ConversationService();
  const resolvers = new Map<Function, object>([
    [ConversationResolver, new ConversationResolver(conversationService)],
    [LeadConversationsResolver, new LeadConversationsResolver(conversationService)],
    [CampaignConversationsResolver, new CampaignConversationsResolver(conversationService)],
  ]);
  return startSubgraphApp({
    name: 'conversation-service',
    config,
    entities: [Conversation],
    migrations,
    buildSchema: () => buildConversationSchema({ get: (resolverClass) => resolvers.get(resolverClass) }),
    createLoaders: createConversationLoaders,
    ...overrides,
  });
}
