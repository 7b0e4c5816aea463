import type { SubgraphContext } from '@gtm/runtime';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { ConversationService } from '../conversation/conversation.service.js';
import { ConversationType } from '../conversation/conversation.type.js';
import type { ConversationLoaders } from '../loaders.js';
import { CampaignReference } from './campaign.type.js';

@Resolver(() => CampaignReference)
export class CampaignConversationsResolver {
  constructor(private readonly conversationService: ConversationService) {}

  @FieldResolver(() => [ConversationType], { nullable: true, description: 'The conversations this campaign started, newest first. Null only while the conversation service is unavailable.' })
  conversations(@Root() campaign: CampaignReference, @Ctx() context: SubgraphContext<ConversationLoaders>) {
    return this.conversationService.listForCampaign(context, campaign.id);
  }
}
