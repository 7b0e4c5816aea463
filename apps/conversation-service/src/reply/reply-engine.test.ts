import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { callerTokenHeader } from '@gtm/caller';
import { enqueueTask } from '@gtm/jobs';
import { createTestCaller, startMailSink, waitFor, startSubgraphUnderTest, type MailSink, type SubgraphUnderTest } from '@gtm/testing';
import { createApp, type ConversationApp } from '../app.js';
import { loadConfig } from '../config.js';
import { Conversation } from '../conversation/conversation.entity.js';
import { ConversationState } from '../conversation/conversation-state.js';
import { signWebhook } from '../inbound/webhook-signature.js';
import { Message, MessageDirection, MessageKind, MessageStatus } from '../message/message.entity.js';
import { nurtureFollowUpTask } from './process-inbound.task.js';

const address = 'sam@engine.example';
const password = 'engine-password';
const webhookSecret = 'engine-webhook-secret-1';
let subgraph: SubgraphUnderTest<ConversationApp>;
let sink: MailSink;
let mailboxId: string;
const caller = createTestCaller();

beforeAll(async () => {
  sink = await startMailSink({ users: { [address]: password } });
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, MAIL_HOST_ALLOWLIST: '127.0.0.1', MAILBOX_WATCHER_ENABLED: 'false', JOB_WORKER_CONCURRENCY: '1' }), { onQuery, jobWorker: { pollIntervalMs: 200 } }),
  );
  const connected = await subgraph.call(caller, `mutation ($input: ConnectMailboxInput!) { connectMailbox(input: $input) { id } }`, {
    input: { address, displayName: 'Sam', smtp: { host: '127.0.0.1', port: sink.port, security: 'NONE', username: address, password }, webhookSecret },
  });
  mailboxId = connected.data!['connectMailbox'].id;
});

afterAll(async () => {
  await subgraph?.close();
  await sink?.close();
});

const em = () => subgraph.app.database.forkForTenant(caller.tenantId);

/** A conversation in `state` whose first email went out, as the engine leaves it. */
async function seed(state: ConversationState, lead: string): Promise<{ conversationId: string; outboundMessageId: string }> {
  const manager = em();
  const conversation = manager.create(Conversation, { tenantId: caller.tenantId, leadId: randomUUID(), subject: 'Month-end close', state, mailboxId, leadEmail: lead, leadFirstName: 'Ana', leadCompany: 'Acme' });
  await manager.persist(conversation).flush();
  const outboundMessageId = `<${randomUUID()}@engine.example>`;
  manager.create(Message, {
    tenantId: caller.tenantId,
    conversationId: conversation.id,
    mailboxId,
    direction: MessageDirection.OUTBOUND,
    kind: MessageKind.SEQUENCE_STEP,
    status: MessageStatus.SENT,
    step: 1,
    subject: 'Month-end close',
    body: 'Hi Ana',
    messageIdHeader: outboundMessageId,
    fromAddress: address,
    toAddress: lead,
    sentAt: new Date(),
  });
  await manager.flush();
  return { conversationId: conversation.id, outboundMessageId };
}

async function postReply(lead: string, inReplyTo: string, text: string): Promise<Response> {
  const body = Buffer.from(`From: Ana <${lead}>\r\nTo: ${address}\r\nSubject: Re: Month-end close\r\nMessage-ID: <${randomUUID()}@lead.example>\r\nIn-Reply-To: ${inReplyTo}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`);
  return fetch(subgraph.app.url.replace(/\/graphql$/, `/webhooks/email/${mailboxId}`), {
    method: 'POST',
    headers: {
      'content-type': 'message/rfc822',
      // What the gateway adds to a public route: a caller without tenant or scopes.
      [callerTokenHeader]: await subgraph.signCaller(createTestCaller({ tenantId: '00000000-0000-0000-0000-000000000000', scopes: [] })),
      ...signWebhook(webhookSecret, body),
    },
    body: new Uint8Array(body),
  });
}

describe('the reply engine', () => {
  it('refuses, and records, a transition the state machine does not allow; nothing is drafted', async () => {
    const lead = 'ana@unsubscribed.example';
    const { conversationId, outboundMessageId } = await seed(ConversationState.UNSUBSCRIBED, lead);
    expect((await postReply(lead, outboundMessageId, 'Actually yes, tell me more, sounds great.')).status).toBe(202);
    const inbound = await waitFor(async () => {
      const message = await em().findOne(Message, { conversationId, direction: MessageDirection.INBOUND });
      return message?.status === MessageStatus.PROCESSED ? message : undefined;
    });
    expect(inbound).toMatchObject({ intent: 'INTERESTED', error: 'Not applied: a conversation cannot go from UNSUBSCRIBED to QUALIFYING.' });
    const conversation = await em().findOneOrFail(Conversation, { id: conversationId });
    expect(conversation.state).toBe(ConversationState.UNSUBSCRIBED);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await em().count(Message, { conversationId, kind: MessageKind.REPLY })).toBe(0);
  });

  it('NOT_NOW nurtures until the lead’s date, then drafts a check-in for a person to approve', async () => {
    const lead = 'ana@later.example';
    const { conversationId, outboundMessageId } = await seed(ConversationState.AWAITING_RESPONSE, lead);
    expect((await postReply(lead, outboundMessageId, 'Not right now, we are mid-audit. Reach out again in 3 months.')).status).toBe(202);
    const nurtured = await waitFor(async () => {
      const conversation = await em().findOne(Conversation, { id: conversationId });
      return conversation?.state === ConversationState.NURTURE ? conversation : undefined;
    });
    const expected = new Date();
    expected.setUTCMonth(expected.getUTCMonth() + 3);
    expect(nurtured.followUpAt?.toISOString().slice(0, 10)).toBe(expected.toISOString().slice(0, 10));
    // The follow-up date, brought forward to now, as if the months had passed.
    await em().transactional((transaction) => enqueueTask(transaction, { task: nurtureFollowUpTask, payload: { tenantId: caller.tenantId, conversationId }, jobKey: `conversation-nurture:${conversationId}` }));
    const checkIn = await waitFor(async () => (await em().findOne(Message, { conversationId, kind: MessageKind.FOLLOW_UP })) ?? undefined);
    expect(checkIn).toMatchObject({ status: MessageStatus.PENDING_APPROVAL, author: 'offline', toAddress: lead });
    expect(checkIn.body).toContain('You asked me to check back around now.');
    expect(sink.messagesTo(lead)).toEqual([]);
  });
});
