import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { headerOf, type SinkMessage } from '@gtm/testing';
import {
  connectMailbox,
  createCampaignWithSequence,
  createLead,
  enrollLeads,
  mailboxAddress,
  mailboxInput,
  startConversationStack,
  unsubscribeUrlOf,
  waitForConversation,
  type ConversationStack,
} from './conversation-fixtures.js';

let environment: ConversationStack;
let campaignId: string;
let mailboxId: string;

beforeAll(async () => {
  environment = await startConversationStack();
  campaignId = (await createCampaignWithSequence(environment)).id;
  const connected = await environment.gql(connectMailbox, { input: mailboxInput(environment) });
  expect(connected.errors).toBeUndefined();
  mailboxId = connected.data!['connectMailbox'].id;
}, 180_000);

afterAll(() => environment?.close());

const messagesTo = (address: string) => environment.sink.messagesTo(address).toSorted((left, right) => left.receivedAt.getTime() - right.receivedAt.getTime());

async function waitForMessages(address: string, count: number): Promise<SinkMessage[]> {
  await environment.sink.waitFor(() => messagesTo(address).length >= count);
  return messagesTo(address);
}

describe('enrolment and sending', () => {
  it('sends each lead its first step, rendered for it, with threading and one-click unsubscribe headers, then the follow-up in the same thread', async () => {
    const dana = await createLead(environment, { firstName: 'Dana', lastName: 'Whitfield', email: 'dana@tidewater.example', title: 'Controller', company: 'Tidewater Logistics' });
    const marcus = await createLead(environment, { firstName: 'Marcus', lastName: 'Oyelaran', email: 'Marcus@Harbor.example', company: 'Harbor Freight Co' });
    const enrolled = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [dana, marcus] } });
    expect(enrolled.errors).toBeUndefined();
    const conversations = enrolled.data!['enrollLeads'] as Record<string, any>[];
    expect(conversations.map((conversation) => conversation['lead'].id).toSorted()).toEqual([dana, marcus].toSorted());
    expect(conversations[0]!['enrollment']).toMatchObject({ enrolled: 2, requested: 2, skipped: [] });
    expect(conversations.every((conversation) => conversation['requireApproval'] === true && conversation['campaign'].id === campaignId && conversation['mailbox'].id === mailboxId)).toBe(true);

    const [first, second] = await waitForMessages('dana@tidewater.example', 2);
    expect(first!.envelope).toEqual({ mailFrom: mailboxAddress, rcptTo: ['dana@tidewater.example'] });
    expect(headerOf(first!, 'from')).toBe(`Sam Carter <${mailboxAddress}>`);
    expect(headerOf(first!, 'to')).toBe('Dana Whitfield <dana@tidewater.example>');
    expect(first!.text).toMatch(/^Hi Dana,/);
    expect(first!.text).toContain('Sam Carter');
    expect(`${first!.subject}\n${first!.text}\n${second!.text}`).not.toMatch(/\{\{|\}\}/);
    const unsubscribeUrl = unsubscribeUrlOf(first!);
    expect(unsubscribeUrl).toMatch(new RegExp(`^${environment.stack.gatewayUrl.replace('/graphql', '')}/unsubscribe/[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{22}$`));
    expect(headerOf(first!, 'list-unsubscribe')).toContain(`<mailto:${mailboxAddress}?subject=unsubscribe>`);
    expect(headerOf(first!, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    // The follow-up threads under the first email in the lead's inbox.
    expect(headerOf(second!, 'in-reply-to')).toBe(headerOf(first!, 'message-id'));
    expect(headerOf(second!, 'references')).toBe(headerOf(first!, 'message-id'));
    expect(second!.subject).toBe(`Re: ${first!.subject}`);
    expect(unsubscribeUrlOf(second!)).toBe(unsubscribeUrl);

    const conversation = await waitForConversation(environment, conversations.find((candidate) => candidate['lead'].id === dana)!['id'], (candidate) => candidate['messages'][1].status === 'SENT');
    expect(conversation).toMatchObject({ state: 'AWAITING_RESPONSE', status: 'WAITING_FOR_REPLY', leadEmail: 'dana@tidewater.example', subject: first!.subject });
    // The first email out makes the lead CONTACTED in crm-service (conversation.lead_outcome, libs/events).
    expect((await waitForConversation(environment, conversation['id'], (candidate) => candidate['lead'].status === 'CONTACTED'))['lead'].status).toBe('CONTACTED');
    const [stepOne, stepTwo, stepThree, ...rest] = conversation['messages'];
    expect(stepOne).toMatchObject({ direction: 'OUTBOUND', kind: 'SEQUENCE_STEP', step: 1, status: 'SENT', messageId: headerOf(first!, 'message-id'), to: 'dana@tidewater.example', from: mailboxAddress });
    expect(stepTwo).toMatchObject({ step: 2, status: 'SENT', messageId: headerOf(second!, 'message-id'), inReplyTo: stepOne.messageId });
    // A day after the follow-up went out, inside the window.
    expect(stepThree).toMatchObject({ step: 3, status: 'SCHEDULED' });
    expect(new Date(stepThree.scheduledAt).getTime() - new Date(stepTwo.sentAt).getTime()).toBeGreaterThanOrEqual(86_400_000);
    expect(conversation['nextSendAt']).toBe(stepThree.scheduledAt);
    expect(rest.every((message: { status: string }) => message.status === 'QUEUED')).toBe(true);

    // The other lead's address was lower-cased, and each lead got exactly its own two messages.
    const toMarcus = await waitForMessages('marcus@harbor.example', 2);
    expect(toMarcus[0]!.text).toMatch(/^Hi Marcus,/);
    expect(toMarcus.map((message) => message.envelope.rcptTo)).toEqual([['marcus@harbor.example'], ['marcus@harbor.example']]);
    expect(environment.sink.messages().filter((message) => message.envelope.rcptTo.includes('dana@tidewater.example'))).toHaveLength(2);
  });

  it('one-click unsubscribe (RFC 8058) stops the sequence and suppresses the address; the link used again, or a forged one, changes nothing', async () => {
    const lead = await createLead(environment, { firstName: 'Priya', email: 'priya@lakeside.example', company: 'Lakeside Foods' });
    const [enrolled] = (await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [lead] } })).data!['enrollLeads'];
    const [first] = await waitForMessages('priya@lakeside.example', 2);
    const url = unsubscribeUrlOf(first!);

    // A mail scanner following the link sees a page and unsubscribes no one.
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await waitForConversation(environment, enrolled.id, () => true))['state']).toBe('AWAITING_RESPONSE');

    const oneClick = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    const answered = await oneClick();
    expect(answered.status).toBe(200);
    expect(await answered.text()).toContain('priya@lakeside.example</b> will not receive any more emails');
    const unsubscribed = await waitForConversation(environment, enrolled.id, (conversation) => conversation['state'] === 'UNSUBSCRIBED' && conversation['lead'].status === 'DISQUALIFIED');
    expect(unsubscribed['status']).toBe('CLOSED');
    expect(unsubscribed['messages'].filter((message: { status: string }) => message.status === 'CANCELLED').length).toBeGreaterThan(0);
    expect(unsubscribed['messages'].some((message: { status: string }) => ['SCHEDULED', 'QUEUED'].includes(message.status))).toBe(false);

    const again = await oneClick();
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('was already unsubscribed');

    const [base, token] = [url.slice(0, url.lastIndexOf('/') + 1), url.slice(url.lastIndexOf('/') + 1)];
    const altered = `${base}${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    for (const forged of [altered, `${base}${randomUUID()}`, `${base}${'A'.repeat(43)}.${'A'.repeat(22)}`]) {
      const refused = await fetch(forged, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('This link is not valid');
    }

    // Never mailed again: enrolling the lead once more skips it as suppressed.
    const retry = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [lead] } });
    expect(retry.errors).toBeUndefined();
    expect(retry.data!['enrollLeads']).toEqual([]);
    const latest = await environment.gql(`query ($campaignId: ID) { enrollments(campaignId: $campaignId, first: 1) { enrolled skipped { lead { id } reason detail } } }`, { campaignId });
    expect(latest.data!['enrollments'][0]).toEqual({ enrolled: 0, skipped: [{ lead: { id: lead }, reason: 'SUPPRESSED', detail: 'priya@lakeside.example is suppressed (UNSUBSCRIBED).' }] });
    expect(messagesTo('priya@lakeside.example')).toHaveLength(2);
  });

  it('skips leads already in an open conversation, without an address, or named twice, and says why', async () => {
    const busy = await createLead(environment, { firstName: 'Lena', email: 'lena@busy.example' });
    const silent = await createLead(environment, { firstName: 'Omar' });
    const fresh = await createLead(environment, { firstName: 'Noor', email: 'noor@fresh.example' });
    await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [busy] } });
    const result = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [busy, silent, fresh, fresh] } });
    expect(result.errors).toBeUndefined();
    expect(result.data!['enrollLeads'].map((conversation: { lead: { id: string } }) => conversation.lead.id)).toEqual([fresh]);
    const skipped = result.data!['enrollLeads'][0].enrollment.skipped.map((skip: { lead: { id: string }; reason: string }) => [skip.lead.id, skip.reason]);
    expect(skipped).toEqual([
      [busy, 'ALREADY_IN_CONVERSATION'],
      [silent, 'NO_EMAIL'],
      [fresh, 'DUPLICATE'],
    ]);
  });

  it('refuses leads, campaigns and mailboxes that do not exist or belong to another tenant, and enrols nothing', async () => {
    const { key } = await environment.stack.gateway.services.apiKeys.createKey({ tenant: 'rival-co', tier: 'pro' });
    const rival = { authorization: `Bearer ${key}` };
    const theirLead = await createLead(environment, { firstName: 'Zed', email: 'zed@rival.example' }, rival);
    const ours = await createLead(environment, { firstName: 'Ava', email: 'ava@ours.example' });

    const mixed = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [ours, theirLead] } });
    expect(mixed.errors?.[0]).toMatchObject({ message: `Lead ${theirLead} was not found.`, extensions: { code: 'NOT_FOUND' } });
    const missing = randomUUID();
    const unknown = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [ours, missing] } });
    expect(unknown.errors?.[0]).toMatchObject({ message: `Lead ${missing} was not found.`, extensions: { code: 'NOT_FOUND' } });
    const ourConversations = await environment.gql(`query ($id: ID) { conversations(filter: { leadId: $id }) { edges { node { id } } } }`, { id: ours });
    expect(ourConversations.data!['conversations'].edges).toEqual([]);

    // The rival tenant can use neither our mailbox nor our campaign, and sees none of our conversations.
    const ourMailbox = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [theirLead] } }, rival);
    expect(ourMailbox.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const theirMailbox = (await environment.gql(connectMailbox, { input: mailboxInput(environment) }, rival)).data!['connectMailbox'].id;
    const ourCampaign = await environment.gql(enrollLeads, { input: { campaignId, mailboxId: theirMailbox, leadIds: [theirLead] } }, rival);
    expect(ourCampaign.errors?.[0]).toMatchObject({ message: `Campaign ${campaignId} was not found.`, extensions: { code: 'NOT_FOUND' } });
    const seen = await environment.gql(`{ conversations { edges { node { id } } } }`, undefined, rival);
    expect(seen.data!['conversations'].edges).toEqual([]);

    // A conversation opened by hand is checked the same way: never with another tenant's lead, or none.
    const start = `mutation ($input: StartConversationInput!) { startConversation(input: $input) { id state lead { id email } } }`;
    expect((await environment.gql(start, { input: { leadId: theirLead, subject: 'Hello' } })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect((await environment.gql(start, { input: { leadId: randomUUID(), subject: 'Hello' } })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const opened = await environment.gql(start, { input: { leadId: ours, subject: 'Hello' } });
    expect(opened.data!['startConversation']).toMatchObject({ state: 'INITIAL_OUTREACH', lead: { id: ours, email: 'ava@ours.example' } });
    expect((await environment.gql(start, { input: { leadId: ours, subject: 'Again' } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'leadId' });
    expect(environment.sink.messagesTo('zed@rival.example')).toEqual([]);
  });

  it('enrols every lead of a crm-service lead list, and refuses another tenant’s list as one that does not exist', async () => {
    const lena = await createLead(environment, { firstName: 'Lena', lastName: 'Brandt', email: 'lena@listed.example', company: 'Listed Supply' });
    const omar = await createLead(environment, { firstName: 'Omar', lastName: 'Haddad', email: 'omar@listed.example', company: 'Listed Supply' });
    const listId = (await environment.gql(`mutation { createLeadList(name: "Trade show") { id } }`)).data!['createLeadList'].id as string;
    const added = await environment.gql(`mutation ($listId: ID!, $leadIds: [ID!]!) { addLeadsToList(listId: $listId, leadIds: $leadIds) { leadCount } }`, { listId, leadIds: [lena, omar] });
    expect(added.data!['addLeadsToList']).toEqual({ leadCount: 2 });

    const enrolled = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadListId: listId } });
    expect(enrolled.errors).toBeUndefined();
    const conversations = enrolled.data!['enrollLeads'] as Record<string, any>[];
    expect(conversations.map((conversation) => conversation['lead'].id).toSorted()).toEqual([lena, omar].toSorted());
    const [toLena] = await waitForMessages('lena@listed.example', 1);
    expect(toLena!.text).toMatch(/^Hi Lena,/);

    const { key } = await environment.stack.gateway.services.apiKeys.createKey({ tenant: 'list-rival-co', tier: 'pro' });
    const rival = { authorization: `Bearer ${key}` };
    const theirList = (await environment.gql(`mutation { createLeadList(name: "Theirs") { id } }`, undefined, rival)).data!['createLeadList'].id as string;
    const refused = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadListId: theirList } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses malformed enrolments naming the field', async () => {
    const lead = await createLead(environment, { firstName: 'Ivy', email: 'ivy@example.org' });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ campaignId, mailboxId }, 'BAD_USER_INPUT', 'leadIds'],
      [{ campaignId, mailboxId, leadIds: [lead], leadListId: randomUUID() }, 'BAD_USER_INPUT', 'leadIds'],
      [{ campaignId, mailboxId, leadIds: ['lead-42'] }, 'BAD_USER_INPUT', 'leadIds.0'],
      [{ campaignId: 'nope', mailboxId, leadIds: [lead] }, 'BAD_USER_INPUT', 'campaignId'],
      [{ campaignId, mailboxId, leadIds: [] }, 'BAD_USER_INPUT', 'leadIds'],
      [{ campaignId, mailboxId: randomUUID(), leadIds: [lead] }, 'NOT_FOUND', ''],
      [{ campaignId: randomUUID(), mailboxId, leadIds: [lead] }, 'NOT_FOUND', ''],
    ];
    for (const [input, code, field] of cases) {
      const result = await environment.gql(enrollLeads, { input });
      expect({ input, extensions: result.errors?.[0]?.extensions }).toEqual({ input, extensions: expect.objectContaining({ code, ...(field ? { field } : {}) }) });
    }
    const list = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadListId: randomUUID() } });
    expect(list.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(environment.sink.messagesTo('ivy@example.org')).toEqual([]);
  });

  it('a recipient the server refuses for good bounces at once: BOUNCED, suppressed, nothing more sent', async () => {
    const lead = await createLead(environment, { firstName: 'Nobody', email: 'nobody@gone.example' });
    const [enrolled] = (await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [lead] } })).data!['enrollLeads'];
    const bounced = await waitForConversation(environment, enrolled.id, (conversation) => conversation['state'] === 'BOUNCED');
    expect(bounced['messages'][0]).toMatchObject({ status: 'FAILED', error: expect.stringContaining('550') });
    expect(bounced['messages'].slice(1).every((message: { status: string }) => message.status === 'CANCELLED')).toBe(true);
    expect(environment.sink.messagesTo('nobody@gone.example')).toEqual([]);
    const again = await environment.gql(enrollLeads, { input: { campaignId, mailboxId, leadIds: [lead] } });
    expect(again.data!['enrollLeads']).toEqual([]);
  });
});

describe('caps, window and pacing', () => {
  it('books sends inside the mailbox window, paced apart and at most the daily limit a day', async () => {
    const now = new Date();
    const tomorrow = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'][(now.getUTCDay() + 1) % 7]!;
    const closedToday = (await environment.gql(connectMailbox, { input: mailboxInput(environment, { address: 'later@northwind.example', sendWindow: { timeZone: 'UTC', start: '09:00', end: '17:00', days: [tomorrow] } }) })).data!['connectMailbox'].id;
    const lead = await createLead(environment, { firstName: 'Tom', email: 'tom@later.example' });
    const [waiting] = (await environment.gql(enrollLeads, { input: { campaignId, mailboxId: closedToday, leadIds: [lead] } })).data!['enrollLeads'];
    const opening = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 9, 0, 0));
    expect(waiting.nextSendAt).toBe(opening.toISOString());
    expect(waiting.messages[0]).toMatchObject({ status: 'SCHEDULED', scheduledAt: opening.toISOString() });

    // A mailbox whose day is at about noon now, so that neither the pacing nor the test's own
    // clock crosses the mailbox's midnight, whenever the test runs.
    const offsetHours = 12 - now.getUTCHours();
    const timeZone = offsetHours === 0 ? 'UTC' : offsetHours > 0 ? `Etc/GMT-${offsetHours}` : `Etc/GMT+${-offsetHours}`;
    const allWeek = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
    const capped = (
      await environment.gql(connectMailbox, {
        input: mailboxInput(environment, { address: 'capped@northwind.example', dailyLimit: 2, pacing: { minimumSecondsBetweenSends: 600, jitterSeconds: 0 }, sendWindow: { timeZone, start: '00:00', end: '23:59', days: allWeek } }),
      })
    ).data!['connectMailbox'].id;
    const leads = await Promise.all(['a', 'b', 'c'].map((name) => createLead(environment, { firstName: name.toUpperCase(), email: `${name}@capped.example` })));
    const enrolled = (await environment.gql(enrollLeads, { input: { campaignId, mailboxId: capped, leadIds: leads } })).data!['enrollLeads'] as { messages: { scheduledAt: string }[] }[];
    const times = enrolled.map((conversation) => new Date(conversation.messages[0]!.scheduledAt).getTime()).toSorted((left, right) => left - right);
    expect(times[1]! - times[0]!).toBe(600_000);
    // The third would be the day's third send: it waits for the next day.
    const localNow = new Date(now.getTime() + offsetHours * 3_600_000);
    const nextLocalMidnight = Date.UTC(localNow.getUTCFullYear(), localNow.getUTCMonth(), localNow.getUTCDate() + 1) - offsetHours * 3_600_000;
    expect(new Date(times[2]!).toISOString()).toBe(new Date(nextLocalMidnight).toISOString());
  });
});
