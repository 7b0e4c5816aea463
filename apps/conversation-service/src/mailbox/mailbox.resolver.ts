import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { ConversationLoaders } from '../loaders.js';
import { ConnectMailboxInput, UpdateMailboxInput } from './mailbox.input.js';
import type { MailboxService } from './mailbox.service.js';
import { MailboxType } from './mailbox.type.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

@Resolver(() => MailboxType)
export class MailboxResolver {
  constructor(private readonly mailboxService: MailboxService) {}

  @Query(() => MailboxType, { nullable: true, description: 'A mailbox of your tenant, or null.' })
  async mailbox(@Arg('id', () => ID) id: string, @Ctx() context: ConversationContext): Promise<MailboxType | null> {
    const mailbox = await this.mailboxService.get(context, id);
    return mailbox && this.mailboxService.toType(mailbox);
  }

  @Query(() => [MailboxType], { description: 'Your mailboxes, oldest first.' })
  async mailboxes(@Ctx() context: ConversationContext): Promise<MailboxType[]> {
    return (await this.mailboxService.list(context)).map((mailbox) => this.mailboxService.toType(mailbox));
  }

  @Mutation(() => MailboxType, { description: 'Connects a sending mailbox after logging in to its SMTP (and IMAP) server; passwords are stored encrypted and never returned.' })
  async connectMailbox(@Arg('input', () => ConnectMailboxInput) input: ConnectMailboxInput, @Ctx() context: ConversationContext): Promise<MailboxType> {
    return this.mailboxService.toType(await this.mailboxService.connect(context, input));
  }

  @Mutation(() => MailboxType, { description: 'Changes a mailbox’s caps, window, pacing or status.' })
  async updateMailbox(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateMailboxInput) input: UpdateMailboxInput, @Ctx() context: ConversationContext): Promise<MailboxType> {
    return this.mailboxService.toType(await this.mailboxService.update(context, id, input));
  }
}
