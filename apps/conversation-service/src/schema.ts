import { buildSubgraphSchema, type SubgraphContext } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import { campaignReference } from './campaign/campaign.reference.js';
import { CampaignConversationsResolver } from './campaign/campaign.resolver.js';
import { conversationReference } from './conversation/conversation.reference.js';
import { ConversationResolver } from './conversation/conversation.resolver.js';
import { leadReference } from './lead/lead.reference.js';
import { LeadConversationsResolver } from './lead/lead.resolver.js';
import type { ConversationLoaders } from './loaders.js';
import { EnrollmentResolver } from './enrollment/enrollment.resolver.js';
import { MailboxResolver } from './mailbox/mailbox.resolver.js';
import { MessageResolver } from './message/message.resolver.js';

/**
 * The conversation subgraph's schema. `container` supplies the resolver instances built in app.ts;
 * `references` the reference resolvers that need the app's services (none when only the SDL is wanted).
 */
export function buildConversationSchema(container: ContainerType, references: Record<string, unknown> = {}) {
  return buildSubgraphSchema<SubgraphContext<ConversationLoaders>>({
    resolvers: [ConversationResolver, LeadConversationsResolver, CampaignConversationsResolver, MailboxResolver, EnrollmentResolver, MessageResolver],
    container,
    referenceResolvers: { ...conversationReference, ...leadReference, ...campaignReference, ...references } as never,
  });
}
