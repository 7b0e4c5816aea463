import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { type SubgraphUnderTest, createTestCaller, postGraphQL, startSubgraphUnderTest } from '@gtm/testing';
import { createApp, type ConversationApp } from '../app.js';
import { loadConfig } from '../config.js';
import { ConversationState } from './conversation-state.js';
import { Conversation } from './conversation.entity.js';

let subgraph: SubgraphUnderTest<ConversationApp>;
let closedPort: number;
const tenantA = createTestCaller();
const tenantB = createTestCaller();

beforeAll(async () => {
  // crm-service is away in these tests: startConversation must look the lead up there (the stack
  // tests cover it answering), so here a well-formed start is refused as UPSTREAM_UNAVAILABLE.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, CRM_SERVICE_URL: `http://127.0.0.1:${closedPort}/graphql`, MAILBOX_WATCHER_ENABLED: 'false', JOB_WORKER_CONCURRENCY: '0' }), { onQuery }),
  );
});

afterAll(() => subgraph?.close());

const conversationFields = 'id subject status lastMessageAt createdAt updatedAt lead { id } campaign { id }';
const startConversation = `mutation ($input: StartConversationInput!) { startConversation(input: $input) { ${conversationFields} } }`;
const closeConversation = `mutation ($id: ID!) { closeConversation(id: $id) { id status } }`;
const leadConversations = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Lead { id conversations { id subject } } } }`;
const campaignConversations = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Campaign { id conversations { id subject } } } }`;

/**
 * Stores a conversation through the service's own ORM, as enrolment does: these tests are about
 * reading, listing, closing and references, not about where conversations come from.
 */
async function start(caller: ReturnType<typeof createTestCaller>, input: { leadId: string; campaignId?: string | null; subject: string; state?: ConversationState }) {
  const em = subgraph.app.database.forkForTenant(caller.tenantId);
  const conversation = em.create(Conversation, { tenantId: caller.tenantId, leadId: input.leadId.toLowerCase(), campaignId: input.campaignId ?? null, subject: input.subject, state: input.state ?? ConversationState.INITIAL_OUTREACH });
  await em.persist(conversation).flush();
  return { id: conversation.id, subject: conversation.subject, status: 'OPEN', updatedAt: conversation.updatedAt.toISOString() };
}

describe('conversations', () => {
  it('reads a conversation back with its lead and campaign as references', async () => {
    const leadId = randomUUID();
    const campaignId = randomUUID();
    const stored = await start(tenantA, { leadId, campaignId, subject: 'Quick question about Blossomer' });
    const read = await subgraph.call(tenantA, `query ($id: ID!) { conversation(id: $id) { ${conversationFields} state } }`, { id: stored.id });
    expect(read.errors).toBeUndefined();
    expect(read.data!['conversation']).toMatchObject({ subject: 'Quick question about Blossomer', status: 'OPEN', state: 'INITIAL_OUTREACH', lastMessageAt: null, lead: { id: leadId }, campaign: { id: campaignId } });

    const withoutCampaign = await start(tenantA, { leadId, subject: 'Follow-up', state: ConversationState.CLOSED });
    const readBack = await subgraph.call(tenantA, `query ($id: ID!) { conversation(id: $id) { campaign { id } lead { id } status } }`, { id: withoutCampaign.id });
    expect(readBack.data!['conversation']).toEqual({ campaign: null, lead: { id: leadId }, status: 'CLOSED' });
  });

  it('refuses to start a conversation while crm-service cannot confirm the lead, and stores nothing', async () => {
    const caller = createTestCaller();
    const result = await subgraph.call(caller, startConversation, { input: { leadId: randomUUID(), subject: 'Hello' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', service: 'crm-service' });
    expect((await subgraph.call(caller, `{ conversations { edges { cursor } } }`)).data!['conversations'].edges).toEqual([]);
  });

  it('does not expose the raw lead and campaign ids', async () => {
    const result = await subgraph.call(tenantA, `{ conversations { edges { node { leadId campaignId } } } }`);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('closes a conversation, and closing it again changes nothing', async () => {
    const caller = createTestCaller();
    const conversation = await start(caller, { leadId: randomUUID(), subject: 'Closing time' });
    const closed = await subgraph.call(caller, `mutation ($id: ID!) { closeConversation(id: $id) { id status updatedAt } }`, { id: conversation.id });
    expect(closed.errors).toBeUndefined();
    expect(closed.data!['closeConversation']).toMatchObject({ id: conversation.id, status: 'CLOSED' });
    const again = await subgraph.call(caller, `mutation ($id: ID!) { closeConversation(id: $id) { id status updatedAt } }`, { id: conversation.id });
    expect(again.data!['closeConversation']).toEqual(closed.data!['closeConversation']);

    const read = await subgraph.call(caller, `query ($id: ID!) { conversation(id: $id) { status } }`, { id: conversation.id });
    expect(read.data!['conversation']).toEqual({ status: 'CLOSED' });

    expect((await subgraph.call(caller, closeConversation, { id: randomUUID() })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect((await subgraph.call(caller, closeConversation, { id: 'not-an-id' })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });

  it('lists conversations as a Relay connection, newest first, with stable pages and filters', async () => {
    const caller = createTestCaller();
    const leadOne = randomUUID();
    const leadTwo = randomUUID();
    const campaignId = randomUUID();
    const ids: string[] = [];
    // A lead has one open conversation at most: Thread 0 and 1 are open, the rest closed or bounced.
    const states = [ConversationState.INITIAL_OUTREACH, ConversationState.QUALIFYING, ConversationState.AWAITING_RESPONSE, ConversationState.CLOSED, ConversationState.BOUNCED];
    for (let index = 0; index < 5; index += 1) {
      const conversation = await start(caller, { leadId: index % 2 === 0 ? leadOne : leadTwo, campaignId: index < 2 ? campaignId : null, subject: `Thread ${index}`, state: index < 2 ? states[index] : ConversationState.CLOSED });
      ids.push(conversation.id);
    }
    await subgraph.app.database.forkForTenant(caller.tenantId).nativeUpdate(Conversation, { id: ids[4]! }, { state: ConversationState.BOUNCED });

    const page = `query ($after: String, $filter: ConversationFilter) { conversations(first: 2, after: $after, filter: $filter) { edges { cursor node { subject } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: { data?: Record<string, any> | null } = await subgraph.call(caller, page, { after });
      const connection: { edges: { node: { subject: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = result.data!['conversations'];
      seen.push(...connection.edges.map((edge) => edge.node.subject));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(['Thread 4', 'Thread 3', 'Thread 2', 'Thread 1', 'Thread 0']);

    const subjects = async (filter: Record<string, unknown>) => {
      const result = await subgraph.call(caller, `query ($filter: ConversationFilter) { conversations(filter: $filter) { edges { node { subject } } } }`, { filter });
      expect(result.errors).toBeUndefined();
      return result.data!['conversations'].edges.map((edge: { node: { subject: string } }) => edge.node.subject);
    };
    expect(await subjects({ leadId: leadOne })).toEqual(['Thread 4', 'Thread 2', 'Thread 0']);
    expect(await subjects({ campaignId })).toEqual(['Thread 1', 'Thread 0']);
    expect(await subjects({ status: ['CLOSED'] })).toEqual(['Thread 4', 'Thread 3', 'Thread 2']);
    expect(await subjects({ leadId: leadOne, status: ['OPEN'] })).toEqual(['Thread 0']);
    expect(await subjects({ status: ['REPLIED'] })).toEqual(['Thread 1']);
    expect(await subjects({ state: ['BOUNCED'] })).toEqual(['Thread 4']);
    expect(await subjects({ leadId: leadTwo, campaignId })).toEqual(['Thread 1']);
    expect(await subjects({ leadId: randomUUID() })).toEqual([]);
  });

  it('rejects bad input with BAD_USER_INPUT and saves nothing', async () => {
    const caller = createTestCaller();
    const leadId = randomUUID();
    const attempts = [
      { input: { leadId: 'lead-42', subject: 'Hello' }, field: 'leadId' },
      { input: { leadId, campaignId: 'campaign-7', subject: 'Hello' }, field: 'campaignId' },
      { input: { leadId, subject: '   ' }, field: 'subject' },
      { input: { leadId, subject: 'x'.repeat(301) }, field: 'subject' },
    ];
    for (const attempt of attempts) {
      const result = await subgraph.call(caller, startConversation, { input: attempt.input });
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: attempt.field } });
    }
    await start(caller, { leadId, subject: 'x'.repeat(300) });
    // Well-formed, but the lead cannot be confirmed (crm-service is away here): nothing stored either.
    expect((await subgraph.call(caller, startConversation, { input: { leadId, subject: 'Fine' } })).errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');

    const badFilter = await subgraph.call(caller, `{ conversations(filter: { leadId: "lead-42" }) { edges { cursor } } }`);
    expect(badFilter.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'filter.leadId' } });
    const badCursor = await subgraph.call(caller, `{ conversations(after: "garbage") { edges { cursor } } }`);
    expect(badCursor.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const tooMany = await subgraph.call(caller, `{ conversations(first: 1000) { edges { cursor } } }`);
    expect(tooMany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const all = await subgraph.call(caller, `{ conversations { edges { node { subject } } } }`);
    expect(all.data!['conversations'].edges).toEqual([{ node: { subject: 'x'.repeat(300) } }]);
  });
});

describe('Lead.conversations and Campaign.conversations', () => {
  it('returns each lead’s and campaign’s conversations, newest first', async () => {
    const caller = createTestCaller();
    const leadOne = randomUUID();
    const leadTwo = randomUUID();
    const campaignId = randomUUID();
    const first = await start(caller, { leadId: leadOne, campaignId, subject: 'First' });
    const second = await start(caller, { leadId: leadOne, subject: 'Second', state: ConversationState.CLOSED });
    const third = await start(caller, { leadId: leadTwo, campaignId, subject: 'Third' });
    const quiet = randomUUID();

    const leads = await subgraph.call(caller, leadConversations, { representations: [leadOne, leadTwo, quiet].map((id) => ({ __typename: 'Lead', id })) });
    expect(leads.errors).toBeUndefined();
    expect(leads.data!['_entities']).toEqual([
      { id: leadOne, conversations: [{ id: second.id, subject: 'Second' }, { id: first.id, subject: 'First' }] },
      { id: leadTwo, conversations: [{ id: third.id, subject: 'Third' }] },
      { id: quiet, conversations: [] },
    ]);

    const campaigns = await subgraph.call(caller, campaignConversations, { representations: [{ __typename: 'Campaign', id: campaignId }, { __typename: 'Campaign', id: 'not-a-uuid' }] });
    expect(campaigns.errors).toBeUndefined();
    expect(campaigns.data!['_entities']).toEqual([
      { id: campaignId, conversations: [{ id: third.id, subject: 'Third' }, { id: first.id, subject: 'First' }] },
      { id: 'not-a-uuid', conversations: [] },
    ]);
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read, list, close or resolve by reference tenant A’s conversations', async () => {
    const leadId = randomUUID();
    const campaignId = randomUUID();
    const conversation = await start(tenantA, { leadId, campaignId, subject: 'Secret deal' });

    expect((await subgraph.call(tenantB, `query ($id: ID!) { conversation(id: $id) { id } }`, { id: conversation.id })).data!['conversation']).toBeNull();
    const listed = await subgraph.call(tenantB, `query ($leadId: ID) { conversations(filter: { leadId: $leadId }) { edges { node { id } } } }`, { leadId });
    expect(listed.data!['conversations'].edges).toEqual([]);
    const closed = await subgraph.call(tenantB, closeConversation, { id: conversation.id });
    expect(closed.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const referenced = await subgraph.call(tenantB, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Conversation { id subject } } }`, {
      representations: [{ __typename: 'Conversation', id: conversation.id }],
    });
    expect(referenced.data!['_entities']).toEqual([null]);
    const viaLead = await subgraph.call(tenantB, leadConversations, { representations: [{ __typename: 'Lead', id: leadId }] });
    expect(viaLead.data!['_entities']).toEqual([{ id: leadId, conversations: [] }]);
    const viaCampaign = await subgraph.call(tenantB, campaignConversations, { representations: [{ __typename: 'Campaign', id: campaignId }] });
    expect(viaCampaign.data!['_entities']).toEqual([{ id: campaignId, conversations: [] }]);

    // The same lookups as tenant A prove the row is there to be hidden.
    const owner = await subgraph.call(tenantA, leadConversations, { representations: [{ __typename: 'Lead', id: leadId }] });
    expect(owner.data!['_entities']).toEqual([{ id: leadId, conversations: [{ id: conversation.id, subject: 'Secret deal' }] }]);
    const stillOpen = await subgraph.call(tenantA, `query ($id: ID!) { conversation(id: $id) { status } }`, { id: conversation.id });
    expect(stillOpen.data!['conversation']).toEqual({ status: 'OPEN' });
  });

  it('refuses a request that the gateway did not sign, _entities included', async () => {
    const unsigned = await postGraphQL(subgraph.app.url, { query: `{ _entities(representations: [{ __typename: "Lead", id: "x" }]) { __typename } }` });
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const unsignedList = await postGraphQL(subgraph.app.url, { query: '{ conversations { edges { cursor } } }' });
    expect(unsignedList.status).toBe(401);
  });
});

const countSelects = () => subgraph.queries.filter((sql) => /\bselect\b/i.test(sql)).length;

describe('batched references', () => {
  it('resolves 100 Lead references with their conversations in a constant number of SQL queries', async () => {
    const caller = createTestCaller();
    const leadIds = Array.from({ length: 100 }, () => randomUUID());
    for (const [index, leadId] of leadIds.entries()) await start(caller, { leadId, subject: `Lead thread ${index}` });

    const countQueries = async (count: number) => {
      subgraph.queries.length = 0;
      const result = await subgraph.call(caller, leadConversations, { representations: leadIds.slice(0, count).map((id) => ({ __typename: 'Lead', id })) });
      expect(result.errors).toBeUndefined();
      expect(result.data!['_entities']).toHaveLength(count);
      const last = result.data!['_entities'][count - 1];
      expect(last).toMatchObject({ id: leadIds[count - 1], conversations: [{ subject: `Lead thread ${count - 1}` }] });
      return countSelects();
    };
    const forOne = await countQueries(1);
    const forHundred = await countQueries(100);
    expect(forHundred).toBe(forOne);
    expect(forHundred).toBeLessThanOrEqual(1);
  });

  it('resolves 100 Conversation and Campaign references in a constant number of SQL queries', async () => {
    const caller = createTestCaller();
    const campaignIds = Array.from({ length: 100 }, () => randomUUID());
    const conversationIds: string[] = [];
    for (const [index, campaignId] of campaignIds.entries()) {
      conversationIds.push((await start(caller, { leadId: randomUUID(), campaignId, subject: `Campaign thread ${index}` })).id);
    }
    const resolveConversations = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Conversation { id subject lead { id } campaign { id } } } }`;
    const countQueries = async (count: number) => {
      subgraph.queries.length = 0;
      const conversations = await subgraph.call(caller, resolveConversations, { representations: conversationIds.slice(0, count).map((id) => ({ __typename: 'Conversation', id })) });
      expect(conversations.errors).toBeUndefined();
      expect(conversations.data!['_entities'][count - 1]).toMatchObject({ id: conversationIds[count - 1], campaign: { id: campaignIds[count - 1] } });
      const campaigns = await subgraph.call(caller, campaignConversations, { representations: campaignIds.slice(0, count).map((id) => ({ __typename: 'Campaign', id })) });
      expect(campaigns.errors).toBeUndefined();
      expect(campaigns.data!['_entities'][count - 1]).toEqual({ id: campaignIds[count - 1], conversations: [{ id: conversationIds[count - 1], subject: `Campaign thread ${count - 1}` }] });
      return countSelects();
    };
    const forOne = await countQueries(1);
    const forHundred = await countQueries(100);
    expect(forHundred).toBe(forOne);
    expect(forHundred).toBeLessThanOrEqual(2);
  });
});

describe('health', () => {
  it('reports PostgreSQL and Redis as up', async () => {
    const response = await fetch(subgraph.app.url.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'conversation-service', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });
});
