import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRelayTokenSigner, relayTokenHeader, sha256Hex, type CallerContext } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startFakeClose, type FakeClose, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createCrmAppForSyncTests, leadByEmail, runSync, waitForSyncRun } from './crm-sync.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let close: FakeClose;
const caller = createTestCaller();
let connectionId: string;

beforeAll(async () => {
  close = await startFakeClose();
  subgraph = await startSubgraphUnderTest(createCrmAppForSyncTests);
});

afterAll(async () => {
  await subgraph?.close();
  await close?.close();
});

const runFields = 'id status created updated unchanged failed conflicts deleted trigger message';
const target = () => ({ subgraph, connectionId, runFields });
const waitForRun = (runId: string, who: CallerContext = caller) => waitForSyncRun(target(), who, runId);
const sync = (direction = 'BOTH') => runSync(target(), caller, direction);
const lead = (email: string, who: CallerContext = caller) => leadByEmail(subgraph, who, email);

const contactOf = (email: string) => [...close.contacts.values()].find((contact) => contact.emails[0]?.email === email)!;

describe('two-way sync with Close', () => {
  it('connects with the API key, checked with Close, and refuses a wrong one with Close’s words', async () => {
    const wrong = await subgraph.call(createTestCaller(), `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, { input: { provider: 'CLOSE', credentials: { apiKey: 'api_wrong' }, baseUrl: close.baseUrl } });
    expect(wrong.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'credentials' } });
    expect(wrong.errors?.[0]?.message).toContain('The API key is invalid or has been revoked');
    const result = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id accountName fieldMapping { field providerField } } }`, {
      input: { provider: 'CLOSE', credentials: { apiKey: close.apiKey }, baseUrl: close.baseUrl, webhookSecret: close.signatureKey },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!['connectCrm'].accountName).toBe('Fake Close Org');
    connectionId = result.data!['connectCrm'].id;
  });

  it('imports every contact over many pages, then an unchanged run writes nothing', async () => {
    close.seedContacts(1_200);
    const run = await sync('IMPORT');
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 1_200, failed: 0 });
    expect(await lead('contact7@seed.example.com')).toMatchObject({ firstName: 'First7', lastName: 'Last7', title: 'Buyer', company: { name: 'Company 7', domain: 'company7.example.com' }, crmRecords: [{ provider: 'CLOSE' }] });
    close.server.resetCounts();
    const again = await sync();
    expect(again).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, failed: 0 });
    expect(close.server.counts().writes).toBe(0);
  });

  it('brings edits from Close through its event log, sends edits from here, and does not ping-pong', async () => {
    close.editContact(contactOf('contact1@seed.example.com').id, { title: 'VP Sales', name: 'Ada Lovelace' });
    const imported = await sync();
    expect(imported).toMatchObject({ status: 'SUCCEEDED', updated: 1, failed: 0 });
    expect(await lead('contact1@seed.example.com')).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', title: 'VP Sales' });

    const here = await lead('contact2@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { lastName: "Hopper" }) { id } }`, { id: here.id });
    const exported = await sync();
    expect(exported).toMatchObject({ status: 'SUCCEEDED', updated: 1, failed: 0 });
    expect(contactOf('contact2@seed.example.com').name).toBe('First2 Hopper');

    close.server.resetCounts();
    const before = await lead('contact2@seed.example.com');
    const echo = await sync();
    expect(echo).toMatchObject({ status: 'SUCCEEDED', updated: 0, created: 0 });
    expect(close.server.counts().writes).toBe(0);
    expect((await lead('contact2@seed.example.com')).updatedAt).toBe(before.updatedAt);
  });

  it('settles a true conflict by the later change', async () => {
    const here = await lead('contact3@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "From GTM" }) { id } }`, { id: here.id });
    await new Promise((resolve) => setTimeout(resolve, 10));
    close.editContact(contactOf('contact3@seed.example.com').id, { title: 'From Close' });
    const run = await sync();
    expect(run).toMatchObject({ status: 'SUCCEEDED', conflicts: 1 });
    expect((await lead('contact3@seed.example.com')).title).toBe('From Close');
    expect(contactOf('contact3@seed.example.com').title).toBe('From Close');
  });

  it('creates a lead made here in Close with its company, and follows a delete made there', async () => {
    await subgraph.call(caller, `mutation { createLead(input: { email: "nova@fresh.example.com", firstName: "Nova", lastName: "Newman" }) { id } }`);
    const pushed = await sync('EXPORT');
    expect(pushed).toMatchObject({ status: 'SUCCEEDED', created: 1, failed: 0 });
    expect(contactOf('nova@fresh.example.com')).toMatchObject({ name: 'Nova Newman' });

    close.deleteContact(contactOf('contact4@seed.example.com').id);
    const run = await sync();
    expect(run).toMatchObject({ status: 'SUCCEEDED', deleted: 1 });
    expect(await lead('contact4@seed.example.com')).toBeNull();
  });

  it('follows a lead renamed in Close and a merge of two leads, found in the lead events', async () => {
    close.renameLead(contactOf('contact20@seed.example.com').lead_id, 'Renamed Company');
    const destination = contactOf('contact21@seed.example.com').lead_id;
    close.mergeLeads(contactOf('contact22@seed.example.com').lead_id, destination);
    expect(await sync('IMPORT')).toMatchObject({ status: 'SUCCEEDED', updated: 2, failed: 0 });
    expect((await lead('contact20@seed.example.com')).company).toMatchObject({ name: 'Renamed Company' });
    // The merged-in contact keeps its lead here, now at the destination's company.
    expect((await lead('contact22@seed.example.com')).company).toMatchObject({ name: close.leads.get(destination)!.name });
    expect(await sync('IMPORT')).toMatchObject({ status: 'SUCCEEDED', updated: 0, created: 0 });
  });

  it('rides out 429s, and dead-letters a record it cannot hold until it is fixed and replayed', async () => {
    close.editContact(contactOf('contact5@seed.example.com').id, { title: 'x'.repeat(400) });
    close.editContact(contactOf('contact6@seed.example.com').id, { title: 'Survived the storm' });
    close.inject({ kind: 'rate-limit', count: 4, retryAfterSeconds: 0.05 });
    const run = await sync();
    expect(run).toMatchObject({ status: 'SUCCEEDED', failed: 1 });
    expect((await lead('contact6@seed.example.com')).title).toBe('Survived the storm');
    const letters = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { deadLetters { externalId error } } }`, { id: connectionId });
    expect(letters.data!['crmConnection'].deadLetters).toEqual([{ externalId: contactOf('contact5@seed.example.com').id, error: expect.stringContaining('TITLE is longer than 300 characters') }]);

    close.editContact(contactOf('contact5@seed.example.com').id, { title: 'Fixed' });
    expect((await subgraph.call(caller, `mutation ($id: ID!) { retryCrmDeadLetters(connectionId: $id) }`, { id: connectionId })).data!['retryCrmDeadLetters']).toBe(1);
    const runs = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 1) { id } } }`, { id: connectionId });
    expect(await waitForRun(runs.data!['crmConnection'].syncRuns[0].id)).toMatchObject({ status: 'SUCCEEDED', trigger: 'replay', failed: 0 });
    expect((await lead('contact5@seed.example.com')).title).toBe('Fixed');
  });

  it('verifies Close webhooks (close-sig-hash over timestamp + body, hex-decoded key): good, bad, old and replayed', async () => {
    const relay = await createRelayTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem });
    const path = `/webhooks/crm/${connectionId}`;
    const post = async (body: string, headers: Record<string, string>) => {
      const response = await fetch(`${new URL(subgraph.app.url).origin}${path}`, { method: 'POST', body, headers: { ...headers, [relayTokenHeader]: await relay.sign({ path, bodySha256: sha256Hex(Buffer.from(body)), requestId: 'test' }) } });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const edited = close.editContact(contactOf('contact8@seed.example.com').id, { title: 'Via webhook' });
    const body = close.webhookBody(close.events.at(-1)!);
    expect(edited.title).toBe('Via webhook');

    expect((await post(body, close.signWebhook(body, undefined, 'ab'.repeat(32)))).status).toBe(401);
    expect((await post(body, close.signWebhook(body, Math.floor(Date.now() / 1000) - 600))).status).toBe(401);
    const headers = close.signWebhook(body);
    const good = await post(body, headers);
    expect(good).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect(await waitForRun(good.body['runId'])).toMatchObject({ status: 'SUCCEEDED', trigger: 'webhook', updated: 1 });
    expect((await lead('contact8@seed.example.com')).title).toBe('Via webhook');
    expect((await post(body, headers)).status).toBe(401);
    expect(await post(body, close.signWebhook(body, Math.floor(Date.now() / 1000) + 1))).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 1 } });
  });

  it('keeps the connection and its leads to its tenant', async () => {
    const other = createTestCaller();
    expect((await subgraph.call(other, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect((await subgraph.call(other, `query ($id: ID!) { crmConnection(id: $id) { id } }`, { id: connectionId })).data!['crmConnection']).toBeNull();
    expect(await lead('contact1@seed.example.com', other)).toBeNull();
  });
});
