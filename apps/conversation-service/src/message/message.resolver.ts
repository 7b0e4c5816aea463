import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { ConversationLoaders } from '../loaders.js';
import type { MessageService } from './message.service.js';
import { MessageType, toMessageType } from './message.type.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

@Resolver(() => MessageType)
export class MessageResolver {
  constructor(private readonly messageService: MessageService) {}

  @Query(() => MessageType, { nullable: true, description: 'A message of your tenant, or null.' })
  async message(@Arg('id', () => ID) id: string, @Ctx() context: ConversationContext): Promise<MessageType | null> {
    const message = await context.loaders.messageById.load(id);
    return message && toMessageType(message);
  }

  @Mutation(() => MessageType, { description: 'Sends a drafted reply, as it is or with your subject and body, in its mailbox’s window and caps.' })
  async approveReply(
    @Arg('messageId', () => ID) messageId: string,
    @Arg('subject', () => String, { nullable: true }) subject: string | null,
    @Arg('body', () => String, { nullable: true }) body: string | null,
    @Ctx() context: ConversationContext,
  ): Promise<MessageType> {
    return toMessageType(await this.messageService.approve(context, messageId, { subject, body }));
  }

  @Mutation(() => MessageType, { description: 'Discards a drafted reply; nothing is sent.' })
  async rejectReply(@Arg('messageId', () => ID) messageId: string, @Arg('reason', () => String, { nullable: true }) reason: string | null, @Ctx() context: ConversationContext): Promise<MessageType> {
    return toMessageType(await this.messageService.reject(context, messageId, reason));
  }
}
