import type { SubgraphContext } from '@gtm/runtime';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { ConversationService } from '../conversation/conversation.service.js';
import { ConversationType } from '../conversation/conversation.type.js';
import type { ConversationLoaders } from '../loaders.js';
import { LeadReference } from './lead.type.js';

@Resolver(() => LeadReference)
export class LeadConversationsResolver {
  constructor(private readonly conversationService: ConversationService) {}

  @FieldResolver(() => [ConversationType], { nullable: true, description: 'Your conversations with this lead, newest first. Null only while the conversation service is unavailable.' })
  conversations(@Root() lead: LeadReference, @Ctx() context: SubgraphContext<ConversationLoaders>) {
    return this.conversationService.listForLead(context, lead.id);
  }
}
