import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestCaller, defaultImapPlugins, startMailSink, startSubgraphUnderTest, startTestImapServer, waitFor, type MailSink, type SubgraphUnderTest, type TestImapServer } from '@gtm/testing';
import { createApp, type ConversationApp } from '../app.js';
import { loadConfig } from '../config.js';
import { Conversation } from '../conversation/conversation.entity.js';
import { ConversationState } from '../conversation/conversation-state.js';
import { mailFixture } from '../mail/mail-fixtures.fixture.js';
import { Mailbox } from '../mailbox/mailbox.entity.js';
import { Message, MessageDirection, MessageKind, MessageStatus } from '../message/message.entity.js';

const address = 'sam@poll.example';
const password = 'poll-password-1';
let subgraph: SubgraphUnderTest<ConversationApp>;
let sink: MailSink;
let imap: TestImapServer;
const caller = createTestCaller();

beforeAll(async () => {
  // A server without IDLE: the watcher must find new mail by reading again every interval.
  [sink, imap] = await Promise.all([startMailSink({ users: { [address]: password } }), startTestImapServer({ user: address, password, plugins: defaultImapPlugins.filter((plugin) => plugin !== 'IDLE') })]);
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, MAIL_HOST_ALLOWLIST: '127.0.0.1', MAILBOX_POLL_INTERVAL_MS: '300', INBOUND_MESSAGE_MAX_BYTES: '40000', JOB_WORKER_CONCURRENCY: '1' }), { onQuery, jobWorker: { pollIntervalMs: 200 } }),
  );
});

afterAll(async () => {
  await subgraph?.close();
  await Promise.all([sink?.close(), imap?.close()]);
});

const lead = 'priya@lead.example';

/** A conversation whose first email went out, as the send task leaves it. */
async function seedSentConversation(mailboxId: string): Promise<{ conversationId: string; outboundMessageId: string }> {
  const em = subgraph.app.database.forkForTenant(caller.tenantId);
  const conversation = em.create(Conversation, { tenantId: caller.tenantId, leadId: randomUUID(), subject: 'Closing the books faster', state: ConversationState.AWAITING_RESPONSE, mailboxId, leadEmail: lead, leadFirstName: 'Priya' });
  await em.persist(conversation).flush();
  const outboundMessageId = `<${randomUUID()}@poll.example>`;
  em.create(Message, {
    tenantId: caller.tenantId,
    conversationId: conversation.id,
    mailboxId,
    direction: MessageDirection.OUTBOUND,
    kind: MessageKind.SEQUENCE_STEP,
    status: MessageStatus.SENT,
    step: 1,
    subject: 'Closing the books faster',
    body: 'Hi Priya',
    messageIdHeader: outboundMessageId,
    fromAddress: address,
    toAddress: lead,
    sentAt: new Date(),
  });
  await em.flush();
  return { conversationId: conversation.id, outboundMessageId };
}

describe('inbox watcher', () => {
  it('polls a server without IDLE: mail from before the mailbox was connected is left alone, unreadable and oversized mail is passed over, and a reply is filed once', async () => {
    const old = imap.deliver(mailFixture('gmail-reply-interested.eml', { lead, mailbox: address, outboundMessageId: '<old@poll.example>' }));
    const connected = await subgraph.call(caller, `mutation ($input: ConnectMailboxInput!) { connectMailbox(input: $input) { id } }`, {
      input: {
        address,
        smtp: { host: '127.0.0.1', port: sink.port, security: 'NONE', username: address, password },
        imap: { host: '127.0.0.1', port: imap.port, security: 'NONE', username: address, password },
      },
    });
    expect(connected.errors).toBeUndefined();
    const mailboxId = connected.data!['connectMailbox'].id as string;
    const { conversationId, outboundMessageId } = await seedSentConversation(mailboxId);
    const em = () => subgraph.app.database.forkForTenant(caller.tenantId);

    imap.deliver(Buffer.from('\u0000\u0001\u0002 not a message at all'));
    imap.deliver(`From: ${lead}\r\nSubject: Re: huge\r\nMessage-ID: <huge@lead.example>\r\nIn-Reply-To: ${outboundMessageId}\r\n\r\n${'x'.repeat(60_000)}\r\n`);
    imap.deliver(`From: stranger@elsewhere.example\r\nSubject: hello\r\nMessage-ID: <stranger@elsewhere.example>\r\n\r\nWho are you?\r\n`);
    const reply = mailFixture('apple-mail-reply-unsubscribe.eml', { lead, mailbox: address, outboundMessageId });
    const replyUid = imap.deliver(reply);

    const unsubscribed = await waitFor(async () => {
      const conversation = await em().findOne(Conversation, { id: conversationId });
      return conversation?.state === ConversationState.UNSUBSCRIBED ? conversation : undefined;
    });
    expect(unsubscribed.intent).toBe('UNSUBSCRIBE');
    const mailbox = await waitFor(async () => {
      const found = await em().findOne(Mailbox, { id: mailboxId });
      return found && Number(found.imapLastUid) >= replyUid ? found : undefined;
    });
    expect(Number(mailbox.imapLastUid)).toBe(replyUid);
    expect(Number(mailbox.imapLastUid)).toBeGreaterThan(old);

    // The same reply delivered again is the same message.
    imap.deliver(reply);
    await waitFor(async () => {
      const found = await em().findOne(Mailbox, { id: mailboxId });
      return found && Number(found.imapLastUid) > replyUid ? found : undefined;
    });
    const inbound = await em().find(Message, { direction: MessageDirection.INBOUND });
    expect(inbound.map((message) => [message.conversationId, message.kind, message.fromAddress])).toEqual([[conversationId, MessageKind.LEAD_REPLY, lead]]);
    const connectedMailbox = await subgraph.call(caller, `query ($id: ID!) { mailbox(id: $id) { lastError lastReadAt } }`, { id: mailboxId });
    expect(connectedMailbox.data!['mailbox']).toMatchObject({ lastError: null, lastReadAt: expect.any(String) });
  });
});
