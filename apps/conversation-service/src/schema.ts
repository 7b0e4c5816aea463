import { buildSubgraphSchema, type SubgraphContext } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { campaignReference } from './campaign/campaign.reference.js';
import { CampaignConversationsResolver } from './campaign/campaign.resolver.js';
import { conversationReference } from './conversation/conversation.reference.js';
import { ConversationResolver } from './conversation/conversation.resolver.js';
import { leadReference } from './lead/lead.reference.js';
import { LeadConversationsResolver } from './lead/lead.resolver.js';
import type { ConversationLoaders } from './loaders.js';

/** The conversation subgraph's schema. `container` supplies the resolver instances built in app.ts. */
export function buildConversationSchema(container: ContainerType) {
  return buildSubgraphSchema<SubgraphContext<ConversationLoaders>>({
    resolvers: [ConversationResolver, LeadConversationsResolver, CampaignConversationsResolver],
    container,
    referenceResolvers: { ...conversationReference, ...leadReference, ...campaignReference },
  });
}
