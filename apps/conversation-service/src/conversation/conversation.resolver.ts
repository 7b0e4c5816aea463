import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CampaignReference } from '../campaign/campaign.type.js';
import { EnrollmentType } from '../enrollment/enrollment.type.js';
import type { EnrollmentService } from '../enrollment/enrollment.service.js';
import { LeadReference } from '../lead/lead.type.js';
import type { ConversationLoaders } from '../loaders.js';
import type { MailboxService } from '../mailbox/mailbox.service.js';
import { MailboxType } from '../mailbox/mailbox.type.js';
import { MessageType, toMessageType } from '../message/message.type.js';
import { type Conversation, ConversationStatus, statusOf } from './conversation.entity.js';
import { ConversationFilter, StartConversationInput } from './conversation.input.js';
import type { ConversationService } from './conversation.service.js';
import { ConversationConnection, ConversationType } from './conversation.type.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

@Resolver(() => ConversationType)
export class ConversationResolver {
  constructor(
    private readonly conversationService: ConversationService,
    private readonly mailboxService: MailboxService,
    private readonly enrollmentService: EnrollmentService,
  ) {}

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

  @Mutation(() => ConversationType, { description: 'Opens a conversation by hand with a lead of your tenant.' })
  startConversation(@Arg('input', () => StartConversationInput) input: StartConversationInput, @Ctx() context: ConversationContext) {
    return this.conversationService.start(context, input);
  }

  @Mutation(() => ConversationType, { description: 'Closes a conversation and cancels what it had not sent; closing a closed one changes nothing.' })
  closeConversation(@Arg('id', () => ID) id: string, @Ctx() context: ConversationContext) {
    return this.conversationService.close(context, id);
  }

  @FieldResolver(() => ConversationStatus)
  status(@Root() conversation: Conversation): ConversationStatus {
    return statusOf(conversation.state);
  }

  @FieldResolver(() => LeadReference, { nullable: true, description: 'The lead this conversation is with (resolved by crm-service); null when crm-service cannot answer.' })
  lead(@Root() conversation: Conversation): LeadReference {
    return { id: conversation.leadId };
  }

  @FieldResolver(() => CampaignReference, { nullable: true, description: 'The campaign that started it, if any (resolved by campaign-service).' })
  campaign(@Root() conversation: Conversation): CampaignReference | null {
    return conversation.campaignId ? { id: conversation.campaignId } : null;
  }

  @FieldResolver(() => MailboxType, { nullable: true, description: 'The mailbox it is sent from and read in.' })
  async mailbox(@Root() conversation: Conversation, @Ctx() context: ConversationContext): Promise<MailboxType | null> {
    const mailbox = conversation.mailboxId ? await context.loaders.mailboxById.load(conversation.mailboxId) : null;
    return mailbox && this.mailboxService.toType(mailbox);
  }

  @FieldResolver(() => EnrollmentType, { nullable: true, description: 'The enrolment that started it.' })
  async enrollment(@Root() conversation: Conversation, @Ctx() context: ConversationContext): Promise<EnrollmentType | null> {
    const enrollment = conversation.enrollmentId ? await context.loaders.enrollmentById.load(conversation.enrollmentId) : null;
    return enrollment && this.enrollmentService.toType(enrollment);
  }

  @FieldResolver(() => [MessageType], { description: 'Its messages, oldest first.' })
  async messages(@Root() conversation: Conversation, @Arg('first', () => Int, { defaultValue: 100 }) first: number, @Ctx() context: ConversationContext): Promise<MessageType[]> {
    return (await this.conversationService.messages(context, conversation, first)).map(toMessageType);
  }

  @FieldResolver(() => MessageType, { nullable: true, description: 'The drafted reply waiting for approveReply or rejectReply, or null.' })
  async pendingReply(@Root() conversation: Conversation, @Ctx() context: ConversationContext): Promise<MessageType | null> {
    const message = await this.conversationService.pendingReply(context, conversation);
    return message && toMessageType(message);
  }

  @FieldResolver(() => Date, { nullable: true, description: 'When the next message is booked to go out (for NURTURE, the follow-up date).' })
  nextSendAt(@Root() conversation: Conversation, @Ctx() context: ConversationContext): Promise<Date | null> {
    return this.conversationService.nextSendAt(context, conversation);
  }
}
