import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGraphQLWebSocketClient, headerOf, startFakeOpenAiServer, subscribeForTest, type FakeLlmReply, type FakeLlmRequest, type FakeLlmServer } from '@gtm/testing';
import { signWebhook } from '@gtm/conversation-service/webhook-signature';
import { mailFixture } from '@gtm/conversation-service/mail-fixtures';
import {
  connectMailbox,
  createCampaignWithSequence,
  createLead,
  enrollLeads,
  mailboxAddress,
  mailboxInput,
  startConversationStack,
  waitForConversation,
  webhookSecret,
  type ConversationStack,
} from './conversation-fixtures.js';

let environment: ConversationStack;
let openAi: FakeLlmServer;
let campaignId: string;
let mailboxId: string;
let webhookUrl: string;

/**
 * The model: it answers the replies these tests mark with "[model]" (as a model would, with high
 * confidence), and fails on every other call, so the conversation service falls back to its offline
 * rules for those. One stack serves both.
 */
function respond(request: FakeLlmRequest): FakeLlmReply {
  if (!request.prompt.includes('[model]')) return { status: 500, message: 'not scripted: answer offline' };
  if (request.system?.includes('You read replies')) {
    return {
      json: {
        intent: 'INFORMATION_REQUEST',
        confidence: 0.93,
        summary: 'Asks whether it integrates with NetSuite.',
        question: 'Does it integrate with NetSuite?',
        bant: { budget: null, authority: { value: 'signs off on tools', quote: 'I sign off on finance tools' }, need: null, timeline: null },
        followUpDate: null,
        referral: null,
      },
    };
  }
  return { json: { body: 'Hi Sura,\n\nYes: Northwind Ledger works with the ERP you already run.\n\nSam Carter', confidence: 0.9, facts: ['works with the ERP you already run'] } };
}

beforeAll(async () => {
  openAi = await startFakeOpenAiServer({ respond, model: 'gpt-5-mini' });
  environment = await startConversationStack({
    conversationEnvironment: { LLM_PROVIDERS: 'openai,offline', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openAi.baseURL, LLM_MAX_RETRIES: '0', LLM_BREAKER_FAILURES: '1000', LLM_CACHE_TTL_SECONDS: '0' },
  });
  campaignId = (await createCampaignWithSequence(environment)).id;
  const connected = (await environment.gql(connectMailbox, { input: mailboxInput(environment) })).data!['connectMailbox'];
  mailboxId = connected.id;
  webhookUrl = connected.webhookUrl;
}, 180_000);

afterAll(async () => {
  await environment?.close();
  await openAi?.close();
});

/** Enrols a new lead and waits until its first two steps went out; returns the conversation and their Message-IDs. */
async function enrolled(name: string, requireApproval = true) {
  const email = `${name.toLowerCase()}@${name.toLowerCase()}-co.example`;
  const lead = await createLead(environment, { firstName: name, lastName: 'Tester', email, company: `${name} Co` });
  const result = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [lead], requireApproval } });
  expect(result.errors).toBeUndefined();
  const id = result.data!['enrollLeads'][0].id as string;
  const conversation = await waitForConversation(environment, id, (candidate) => candidate['messages'][1]?.status === 'SENT');
  return { id, lead, email, conversation, stepIds: [conversation['messages'][0].messageId as string, conversation['messages'][1].messageId as string] };
}

const fixtureFor = (name: string, target: Awaited<ReturnType<typeof enrolled>>, extra: { subject?: string } = {}) =>
  mailFixture(name, { lead: target.email, mailbox: mailboxAddress, outboundMessageId: target.stepIds[1]!, references: target.stepIds, subject: extra.subject ?? target.conversation['subject'] });

const postWebhook = (body: Buffer, headers: Record<string, string> = signWebhook(webhookSecret, body), url = webhookUrl) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'message/rfc822', ...headers }, body: new Uint8Array(body) });

describe('replies in', () => {
  it('a reply read over IMAP stops the sequence, is understood, moves the state and waits with a grounded draft; the approved draft goes out in the thread', async () => {
    const target = await enrolled('Dana');
    environment.imap.deliver(fixtureFor('gmail-reply-interested.eml', target));
    const replied = await waitForConversation(environment, target.id, (conversation) => conversation['pendingReply'] !== null);
    expect(replied).toMatchObject({ state: 'SCHEDULING', status: 'REPLIED', intent: 'MEETING_REQUEST', nextSendAt: null });
    // Agreeing to meet qualifies the lead in crm-service, through the lead outcome event.
    expect((await waitForConversation(environment, target.id, (conversation) => conversation['lead'].status === 'QUALIFIED'))['lead'].status).toBe('QUALIFIED');
    // Offline rules, not a model: low confidence, and said so.
    expect(replied['intentConfidence']).toBeLessThanOrEqual(0.3);
    const messages = replied['messages'] as Record<string, any>[];
    expect(messages.filter((message) => message.kind === 'SEQUENCE_STEP' && message.step > 2).every((message) => message.status === 'CANCELLED')).toBe(true);
    const inbound = messages.find((message) => message.direction === 'INBOUND')!;
    expect(inbound).toMatchObject({ kind: 'LEAD_REPLY', status: 'PROCESSED', intent: 'MEETING_REQUEST', from: target.email, inReplyTo: target.stepIds[1], author: 'offline' });
    expect(inbound.text).toContain('What does pricing look like for a team of 12 accountants?');
    expect(inbound.text).not.toContain('wrote:');
    expect(replied['bant']).toMatchObject({ budget: { quote: expect.stringContaining('budget for it is approved for Q1') }, timeline: { value: 'Q1' } });

    const draft = replied['pendingReply'];
    expect(draft).toMatchObject({ status: 'PENDING_APPROVAL', intent: 'MEETING_REQUEST', author: 'offline', inReplyTo: inbound.messageId });
    expect(draft.subject).toBe(`Re: ${replied['subject']}`);
    expect(draft.text).toMatch(/^Hi Dana,/);
    expect(draft.text).toContain('Sam Carter');
    // Nothing goes out before a person approves it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(environment.sink.messagesTo(target.email)).toHaveLength(2);

    const approved = await environment.gql(`mutation ($id: ID!, $body: String) { approveReply(messageId: $id, body: $body) { id status author scheduledAt } }`, {
      id: draft.id,
      body: 'Hi Dana,\n\nTuesday at 2pm works. Pricing for 12 seats is on the invite.\n\nSam Carter',
    });
    expect(approved.errors).toBeUndefined();
    expect(approved.data!['approveReply']).toMatchObject({ status: 'SCHEDULED', author: 'person' });
    const sent = await environment.sink.waitFor((message) => message.envelope.rcptTo.includes(target.email) && message.text.includes('Tuesday at 2pm works'));
    expect(headerOf(sent, 'in-reply-to')).toBe(inbound.messageId);
    expect(headerOf(sent, 'references')).toContain(target.stepIds[0]!);
    expect(headerOf(sent, 'references')).toContain(inbound.messageId);
    expect(sent.subject).toBe(`Re: ${replied['subject']}`);
    const after = await waitForConversation(environment, target.id, (conversation) => conversation['messages'].some((message: { id: string; status: string }) => message.id === draft.id && message.status === 'SENT'));
    expect(after['pendingReply']).toBeNull();
    expect(after['state']).toBe('SCHEDULING');

    // Approving twice, or rejecting a sent message, changes nothing.
    const again = await environment.gql(`mutation ($id: ID!) { approveReply(messageId: $id) { id } }`, { id: draft.id });
    expect(again.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'messageId' } });
    expect(environment.sink.messagesTo(target.email)).toHaveLength(3);
  });

  it('a signed webhook delivers a reply once; an unsigned, altered, stale or foreign one is refused and stores nothing', async () => {
    const target = await enrolled('Marcus');
    const raw = fixtureFor('outlook-reply-objection.eml', target);
    const altered = Buffer.from(raw.toString('latin1').replace('Honestly', 'Frankly'), 'latin1');
    const signed = signWebhook(webhookSecret, raw);
    expect((await postWebhook(altered, signed)).status).toBe(401);
    expect((await postWebhook(raw, {})).status).toBe(401);
    expect((await postWebhook(raw, signWebhook('a-different-secret-123', raw))).status).toBe(401);
    expect((await postWebhook(raw, signWebhook(webhookSecret, raw, Math.floor(Date.now() / 1000) - 3_600))).status).toBe(401);
    expect((await postWebhook(raw, signed, webhookUrl.replace(mailboxId, '00000000-0000-4000-8000-000000000000'))).status).toBe(401);
    const malformed = Buffer.from('\u0000\u0001 not a message');
    expect((await postWebhook(malformed, signWebhook(webhookSecret, malformed))).status).toBe(400);
    let conversation = await waitForConversation(environment, target.id, () => true);
    expect(conversation['messages'].some((message: { direction: string }) => message.direction === 'INBOUND')).toBe(false);

    const accepted = await postWebhook(raw, signed);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({ outcome: 'received', conversationId: target.id });
    // The same message again, by webhook or by IMAP, is one message.
    const repeated = await postWebhook(raw, signWebhook(webhookSecret, raw));
    expect(repeated.status).toBe(200);
    expect(await repeated.json()).toMatchObject({ outcome: 'duplicate' });
    environment.imap.deliver(raw);

    conversation = await waitForConversation(environment, target.id, (candidate) => candidate['pendingReply'] !== null);
    expect(conversation).toMatchObject({ state: 'OBJECTION_HANDLING', intent: 'OBJECTION' });
    expect((await waitForConversation(environment, target.id, (candidate) => candidate['lead'].status === 'ENGAGED'))['lead'].status).toBe('ENGAGED');
    expect(conversation['messages'].filter((message: { direction: string }) => message.direction === 'INBOUND')).toHaveLength(1);
    expect(conversation['messages'].find((message: { direction: string }) => message.direction === 'INBOUND').text).not.toContain('Financial Controller');

    const rejected = await environment.gql(`mutation ($id: ID!) { rejectReply(messageId: $id, reason: "I will call him instead") { status rejectionReason } }`, { id: conversation['pendingReply'].id });
    expect(rejected.data!['rejectReply']).toEqual({ status: 'REJECTED', rejectionReason: 'I will call him instead' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(environment.sink.messagesTo(target.email)).toHaveLength(2);
    expect((await waitForConversation(environment, target.id, () => true))['pendingReply']).toBeNull();
  });

  it('reads a reply in another charset, and takes a 30 MB attachment through the gateway without trouble', async () => {
    const target = await enrolled('Juergen');
    const raw = mailFixture('thunderbird-reply-latin1.eml', { lead: target.email, mailbox: mailboxAddress, outboundMessageId: target.stepIds[1]!, subject: 'Grüße zum Monatsabschluss' });
    expect((await postWebhook(raw)).status).toBe(202);
    const conversation = await waitForConversation(environment, target.id, (candidate) => candidate['intent'] !== null);
    const inbound = conversation['messages'].find((message: { direction: string }) => message.direction === 'INBOUND');
    expect(inbound.subject).toBe('AW: Grüße zum Monatsabschluss');
    expect(inbound.text).toContain('Können wir nächste Woche telefonieren? Dienstag um 14 Uhr wäre gut.');
    expect(conversation['state']).toBe('SCHEDULING');

    const big = await enrolled('Bigfile');
    const boundary = 'b-big';
    const head = `From: Big <${big.email}>\r\nTo: ${mailboxAddress}\r\nSubject: Re: ${big.conversation['subject']}\r\nMessage-ID: <big-${Date.now()}@bigfile.example>\r\nIn-Reply-To: ${big.stepIds[1]}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInterested - our current process is attached.\r\n--${boundary}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="process.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
    const line = `${Buffer.alloc(57, 3).toString('base64')}\r\n`;
    const body = Buffer.concat([Buffer.from(head), Buffer.from(line.repeat(Math.ceil((30 * 1024 * 1024) / 57))), Buffer.from(`--${boundary}--\r\n`)]);
    const answer = await postWebhook(body);
    expect(answer.status).toBe(202);
    const withAttachment = await waitForConversation(environment, big.id, (candidate) => candidate['intent'] !== null);
    expect(withAttachment['messages'].find((message: { direction: string }) => message.direction === 'INBOUND').text).toBe('Interested - our current process is attached.');
  });

  it('bounces: a hard one ends the conversation and suppresses the address; a soft one sends the message again later; a delay warning changes nothing', async () => {
    const hard = await enrolled('Hardbounce');
    environment.imap.deliver(mailFixture('postfix-dsn-hard-bounce.eml', { lead: hard.email, mailbox: mailboxAddress, outboundMessageId: hard.stepIds[0]! }));
    const bounced = await waitForConversation(environment, hard.id, (conversation) => conversation['state'] === 'BOUNCED');
    // A bad address says nothing about the lead's interest: it stays CONTACTED.
    expect(bounced['lead'].status).toBe('CONTACTED');
    expect(bounced['messages'][0]).toMatchObject({ status: 'BOUNCED', error: expect.stringContaining('5.1.1') });
    expect(bounced['messages'].find((message: { kind: string }) => message.kind === 'DELIVERY_REPORT')).toMatchObject({ intent: 'BOUNCE', status: 'PROCESSED' });
    const again = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [hard.lead] } });
    expect(again.data!['enrollLeads']).toEqual([]);

    const soft = await enrolled('Softbounce');
    const before = Date.now();
    expect((await postWebhook(mailFixture('exchange-dsn-soft-bounce.eml', { lead: soft.email, mailbox: mailboxAddress, outboundMessageId: soft.stepIds[1]! }))).status).toBe(202);
    const retried = await waitForConversation(environment, soft.id, (conversation) => conversation['messages'][1].status === 'SCHEDULED');
    expect(retried['state']).toBe('AWAITING_RESPONSE');
    expect(new Date(retried['messages'][1].scheduledAt).getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(retried['messages'][1].error).toContain('Soft bounce');

    const delayed = await enrolled('Delayed');
    environment.imap.deliver(mailFixture('postfix-dsn-delayed.eml', { lead: delayed.email, mailbox: mailboxAddress, outboundMessageId: delayed.stepIds[0]! }));
    const warned = await waitForConversation(environment, delayed.id, (conversation) => conversation['messages'].some((message: { kind: string; status: string }) => message.kind === 'DELIVERY_REPORT' && message.status === 'PROCESSED'));
    expect(warned['state']).toBe('AWAITING_RESPONSE');
    expect(warned['messages'].map((message: { status: string }) => message.status).slice(0, 3)).toEqual(['SENT', 'SENT', 'SCHEDULED']);
  });

  it('an out-of-office reply changes nothing and the sequence goes on; "remove me" in a reply unsubscribes', async () => {
    const away = await enrolled('Away');
    environment.imap.deliver(fixtureFor('outlook-out-of-office.eml', away));
    const stillGoing = await waitForConversation(environment, away.id, (conversation) => conversation['messages'].some((message: { kind: string; status: string }) => message.kind === 'AUTO_REPLY' && message.status === 'PROCESSED'));
    expect(stillGoing).toMatchObject({ state: 'AWAITING_RESPONSE', pendingReply: null });
    expect(stillGoing['messages'].find((message: { kind: string }) => message.kind === 'AUTO_REPLY').intent).toBe('OUT_OF_OFFICE');
    expect(stillGoing['messages'][2].status).toBe('SCHEDULED');

    const leaving = await enrolled('Priya');
    environment.imap.deliver(fixtureFor('apple-mail-reply-unsubscribe.eml', leaving));
    const gone = await waitForConversation(environment, leaving.id, (conversation) => conversation['state'] === 'UNSUBSCRIBED');
    expect(gone).toMatchObject({ intent: 'UNSUBSCRIBE', pendingReply: null, status: 'CLOSED' });
    expect(gone['messages'].some((message: { status: string }) => ['SCHEDULED', 'QUEUED', 'PENDING_APPROVAL'].includes(message.status))).toBe(false);
  });

  it('without requireApproval, a reply the model is sure of is answered at once; an unsure one still waits', async () => {
    const sure = await enrolled('Sura', false);
    const question = Buffer.from(
      `From: Sura <${sure.email}>\r\nTo: ${mailboxAddress}\r\nSubject: Re: ${sure.conversation['subject']}\r\nMessage-ID: <model-${Date.now()}@dana.example>\r\nIn-Reply-To: ${sure.stepIds[1]}\r\nReferences: ${sure.stepIds.join(' ')}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n[model] I sign off on finance tools here. Does it integrate with NetSuite?\r\n`,
    );
    expect((await postWebhook(question)).status).toBe(202);
    const answered = await environment.sink.waitFor((message) => message.envelope.rcptTo.includes(sure.email) && message.text.includes('works with the ERP you already run'));
    expect(headerOf(answered, 'in-reply-to')).toMatch(/^<model-/);
    const conversation = await waitForConversation(environment, sure.id, (candidate) => candidate['messages'].some((message: { kind: string; status: string }) => message.kind === 'REPLY' && message.status === 'SENT'));
    expect(conversation).toMatchObject({ state: 'QUALIFYING', intent: 'INFORMATION_REQUEST', intentConfidence: 0.93, pendingReply: null, bant: { authority: { value: 'signs off on tools' } } });
    expect(conversation['messages'].find((message: { kind: string }) => message.kind === 'REPLY')).toMatchObject({ author: 'openai', confidence: 0.9 });
    expect(openAi.requests.some((request) => request.prompt.includes('Does it integrate with NetSuite?'))).toBe(true);

    // The same setting, but offline rules (low confidence): the draft waits for a person.
    const unsure = await enrolled('Unsure', false);
    environment.imap.deliver(fixtureFor('gmail-reply-interested.eml', unsure));
    const waiting = await waitForConversation(environment, unsure.id, (candidate) => candidate['pendingReply'] !== null);
    expect(waiting['pendingReply']).toMatchObject({ status: 'PENDING_APPROVAL', author: 'offline' });
    expect(environment.sink.messagesTo(unsure.email)).toHaveLength(2);
  });

  it('keeps each tenant’s conversations, drafts and webhooks to itself', async () => {
    const target = await enrolled('Secret');
    environment.imap.deliver(fixtureFor('gmail-reply-interested.eml', target));
    const replied = await waitForConversation(environment, target.id, (conversation) => conversation['pendingReply'] !== null);
    const { key } = await environment.stack.gateway.services.apiKeys.createKey({ tenant: 'snooper', tier: 'pro' });
    const snooper = { authorization: `Bearer ${key}` };
    expect((await environment.gql(`query ($id: ID!) { conversation(id: $id) { id } }`, { id: target.id }, snooper)).data!['conversation']).toBeNull();
    expect((await environment.gql(`query ($id: ID!) { message(id: $id) { id } }`, { id: replied['pendingReply'].id }, snooper)).data!['message']).toBeNull();
    const approve = await environment.gql(`mutation ($id: ID!) { approveReply(messageId: $id) { id } }`, { id: replied['pendingReply'].id }, snooper);
    expect(approve.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const reject = await environment.gql(`mutation ($id: ID!) { rejectReply(messageId: $id) { id } }`, { id: replied['pendingReply'].id }, snooper);
    expect(reject.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect((await environment.gql(`{ mailboxes { id } }`, undefined, snooper)).data!['mailboxes']).toEqual([]);
    expect((await waitForConversation(environment, target.id, () => true))['pendingReply'].status).toBe('PENDING_APPROVAL');
  });

  it('streams a conversation’s events live over WebSocket: the reply, its intent, the state change, the draft; only to its tenant', async () => {
    const target = await enrolled('Live');
    const client = createGraphQLWebSocketClient(environment.stack.gatewayUrl, { authorization: `Bearer ${environment.stack.apiKey}` });
    const { key } = await environment.stack.gateway.services.apiKeys.createKey({ tenant: 'listener-co', tier: 'pro' });
    const stranger = createGraphQLWebSocketClient(environment.stack.gatewayUrl, { authorization: `Bearer ${key}` });
    try {
      const subscription = subscribeForTest(client, {
        query: `subscription ($id: ID) { conversationEvents(conversationId: $id) { type state intent conversation { id state intent } message { id direction kind status } } }`,
        variables: { id: target.id },
      });
      const everything = subscribeForTest(client, { query: `subscription { conversationEvents { type conversation { id } } }` });
      const theirs = subscribeForTest(stranger, { query: `subscription { conversationEvents { type conversation { id } } }` });
      const probing = subscribeForTest(stranger, { query: `subscription ($id: ID) { conversationEvents(conversationId: $id) { type } }`, variables: { id: target.id } });
      expect((await probing.ended).error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
      // Subscribed before the reply arrives: Redis pub/sub delivers only what happens from now on.
      await new Promise((resolve) => setTimeout(resolve, 500));
      environment.imap.deliver(fixtureFor('outlook-reply-objection.eml', target));
      const results = await subscription.received(4);
      const events = results.map((result) => result.data!['conversationEvents']);
      expect(events.map((event) => event.type)).toEqual(['REPLY_RECEIVED', 'INTENT_CLASSIFIED', 'STATE_CHANGED', 'DRAFT_READY']);
      expect(events[0]).toMatchObject({ message: { direction: 'INBOUND', kind: 'LEAD_REPLY' }, conversation: { id: target.id } });
      expect(events[1]).toMatchObject({ intent: 'OBJECTION' });
      expect(events[2]).toMatchObject({ state: 'OBJECTION_HANDLING', conversation: { state: 'OBJECTION_HANDLING', intent: 'OBJECTION' } });
      expect(events[3]).toMatchObject({ intent: 'OBJECTION', message: { direction: 'OUTBOUND', kind: 'REPLY', status: 'PENDING_APPROVAL' } });
      expect(results.every((result) => result.errors === undefined)).toBe(true);
      const all = await everything.received(4);
      expect(all.some((result) => result.data!['conversationEvents'].conversation.id === target.id)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(theirs.results).toEqual([]);
      subscription.stop();
      everything.stop();
      theirs.stop();
    } finally {
      await Promise.all([client.dispose(), stranger.dispose()]);
    }
  });
});
