import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CampaignReference } from '../campaign/campaign.type.js';
import { LeadReference } from '../lead/lead.type.js';
import type { ConversationLoaders } from '../loaders.js';
import type { Conversation } from './conversation.entity.js';
import { ConversationFilter, StartConversationInput } from './conversation.input.js';
import type { ConversationService } from './conversation.service.js';
import { ConversationConnection, ConversationType } from './conversation.type.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

@Resolver(() => ConversationType)
export class ConversationResolver {
  constructor(private readonly conversationService: ConversationService) {}

  @Query(() => ConversationType, { nullable: true, description: 'A conversation of your tenant, or null.' })
  conversation(@Arg('id', () => ID) id: string, @Ctx() context: ConversationContext) {
    return this.conversationService.get(context, id);
  }

  @Query(() => ConversationConnection, { description: 'Conversations, newest first.' })
  conversations(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => ConversationFilter, { nullable: true }) filter: ConversationFilter | undefined,
    @Ctx() context: ConversationContext,
  ) {
    return this.conversationService.list(context, filter, args);
  }

  @Mutation(() => ConversationType, { description: 'Opens a conversation with a lead.' })
  startConversation(@Arg('input', () => StartConversationInput) input: StartConversationInput, @Ctx() context: ConversationContext) {
    return this.conversationService.start(context, input);
  }

  @Mutation(() => ConversationType, { description: 'Closes a conversation; closing a closed one changes nothing.' })
  closeConversation(@Arg('id', () => ID) id: string, @Ctx() context: ConversationContext) {
    return this.conversationService.close(context, id);
  }

  @FieldResolver(() => LeadReference, { description: 'The lead this conversation is with (resolved by crm-service).' })
  lead(@Root() conversation: Conversation): LeadReference {
    return { id: conversation.leadId };
  }

  @FieldResolver(() => CampaignReference, { nullable: true, description: 'The campaign that started it, if any (resolved by campaign-service).' })
  campaign(@Root() conversation: Conversation): CampaignReference | null {
    return conversation.campaignId ? { id: conversation.campaignId } : null;
  }
}
