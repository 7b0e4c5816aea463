import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRelayTokenSigner, relayTokenHeader, sha256Hex, type CallerContext } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startFakeGoHighLevel, type FakeGoHighLevel, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createCrmAppForSyncTests, leadByEmail, runSync, waitForSyncRun } from './crm-sync.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let ghl: FakeGoHighLevel;
const caller = createTestCaller();
let connectionId: string;

beforeAll(async () => {
  ghl = await startFakeGoHighLevel();
  subgraph = await startSubgraphUnderTest(createCrmAppForSyncTests);
});

afterAll(async () => {
  await subgraph?.close();
  await ghl?.close();
});

const runFields = 'id status created updated unchanged failed conflicts deleted merged trigger message';
const target = () => ({ subgraph, connectionId, runFields });
const waitForRun = (runId: string, who: CallerContext = caller) => waitForSyncRun(target(), who, runId);
const sync = (direction = 'BOTH') => runSync(target(), caller, direction);
const lead = (email: string, who: CallerContext = caller) => leadByEmail(subgraph, who, email);

const contactOf = (email: string) => [...ghl.contacts.values()].find((contact) => contact.email === email)!;

async function postWebhook(body: string, headers: Record<string, string>) {
  const relay = await createRelayTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem });
  const path = `/webhooks/crm/${connectionId}`;
  const response = await fetch(`${new URL(subgraph.app.url).origin}${path}`, { method: 'POST', body, headers: { ...headers, [relayTokenHeader]: await relay.sign({ path, bodySha256: sha256Hex(Buffer.from(body)), requestId: 'test' }) } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('two-way sync with GoHighLevel', () => {
  it('connects with the private integration token and location, checked with GoHighLevel, and refuses a wrong one', async () => {
    const wrong = await subgraph.call(createTestCaller(), `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, { input: { provider: 'GOHIGHLEVEL', credentials: { accessToken: 'pit-wrong', locationId: ghl.locationId }, baseUrl: ghl.baseUrl } });
    expect(wrong.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'credentials' } });
    expect(wrong.errors?.[0]?.message).toContain('Invalid Private Integration token');
    const result = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id accountName } }`, {
      input: { provider: 'GOHIGHLEVEL', credentials: { accessToken: ghl.token, locationId: ghl.locationId }, baseUrl: ghl.baseUrl, webhookSecret: ghl.webhookPublicKey },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!['connectCrm'].accountName).toBe('Fake Sub-Account');
    connectionId = result.data!['connectCrm'].id;
  });

  it('imports every contact over many pages of the dateUpdated search, then an unchanged run writes nothing', async () => {
    ghl.seedContacts(1_200);
    const run = await sync('IMPORT');
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 1_200, failed: 0 });
    expect(await lead('contact7@seed.example.com')).toMatchObject({ firstName: 'First7', lastName: 'Last7', company: { name: 'Company 7', domain: 'company7.example.com' }, crmRecords: [{ provider: 'GOHIGHLEVEL' }] });
    ghl.server.resetCounts();
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, failed: 0 });
    expect(ghl.server.counts().writes).toBe(0);
  });

  it('brings edits from GoHighLevel, sends edits from here, settles a conflict by the later change, and does not ping-pong', async () => {
    ghl.editContact(contactOf('contact1@seed.example.com').id, { lastName: 'Lovelace' });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    expect((await lead('contact1@seed.example.com')).lastName).toBe('Lovelace');

    const here = await lead('contact2@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { lastName: "Hopper" }) { id } }`, { id: here.id });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    expect(contactOf('contact2@seed.example.com').lastName).toBe('Hopper');

    const conflicted = await lead('contact3@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { firstName: "FromGTM" }) { id } }`, { id: conflicted.id });
    await new Promise((resolve) => setTimeout(resolve, 10));
    ghl.editContact(contactOf('contact3@seed.example.com').id, { firstName: 'FromGHL' });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', conflicts: 1 });
    expect((await lead('contact3@seed.example.com')).firstName).toBe('FromGHL');

    ghl.server.resetCounts();
    const before = await lead('contact2@seed.example.com');
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 0, created: 0 });
    expect(ghl.server.counts().writes).toBe(0);
    expect((await lead('contact2@seed.example.com')).updatedAt).toBe(before.updatedAt);
  });

  it('pushes a lead made here, matching an existing contact by email first', async () => {
    await subgraph.call(caller, `mutation { createLead(input: { email: "nova@fresh.example.com", firstName: "Nova", lastName: "Newman" }) { id } }`);
    expect(await sync('EXPORT')).toMatchObject({ status: 'SUCCEEDED', created: 1, failed: 0 });
    expect(contactOf('nova@fresh.example.com')).toMatchObject({ firstName: 'Nova', lastName: 'Newman' });
  });

  it('verifies Ed25519 webhooks (good, bad, replayed), and follows a delete sent by webhook', async () => {
    const { webhook } = ghl.editContact(contactOf('contact8@seed.example.com').id, { lastName: 'ViaWebhook' });
    const otherKey = (await import('node:crypto')).generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect((await postWebhook(webhook, ghl.signWebhook(webhook, otherKey))).status).toBe(401);
    expect((await postWebhook(webhook.replace('ViaWebhook', 'Tampered'), ghl.signWebhook(webhook))).status).toBe(401);
    const headers = ghl.signWebhook(webhook);
    const good = await postWebhook(webhook, headers);
    expect(good).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect(await waitForRun(good.body['runId'])).toMatchObject({ status: 'SUCCEEDED', trigger: 'webhook', updated: 1 });
    expect((await lead('contact8@seed.example.com')).lastName).toBe('ViaWebhook');
    expect((await postWebhook(webhook, headers)).status).toBe(401);

    const deleted = ghl.deleteContact(contactOf('contact9@seed.example.com').id);
    const gone = await postWebhook(deleted, ghl.signWebhook(deleted));
    expect(await waitForRun(gone.body['runId'])).toMatchObject({ status: 'SUCCEEDED', deleted: 1 });
    expect(await lead('contact9@seed.example.com')).toBeNull();
  });

  it('rides out 429s, and dead-letters a record it cannot hold until it is fixed and replayed', async () => {
    ghl.editContact(contactOf('contact5@seed.example.com').id, { firstName: 'x'.repeat(250) });
    ghl.editContact(contactOf('contact6@seed.example.com').id, { lastName: 'Stormproof' });
    ghl.inject({ kind: 'rate-limit', count: 4, retryAfterSeconds: 0.05 });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', failed: 1 });
    expect((await lead('contact6@seed.example.com')).lastName).toBe('Stormproof');
    ghl.editContact(contactOf('contact5@seed.example.com').id, { firstName: 'Fixed' });
    expect((await subgraph.call(caller, `mutation ($id: ID!) { retryCrmDeadLetters(connectionId: $id) }`, { id: connectionId })).data!['retryCrmDeadLetters']).toBe(1);
    const runs = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 1) { id } } }`, { id: connectionId });
    expect(await waitForRun(runs.data!['crmConnection'].syncRuns[0].id)).toMatchObject({ status: 'SUCCEEDED', trigger: 'replay', failed: 0 });
    expect((await lead('contact5@seed.example.com')).firstName).toBe('Fixed');
  });

  it('keeps the connection and its leads to its tenant', async () => {
    const other = createTestCaller();
    expect((await subgraph.call(other, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect(await lead('contact1@seed.example.com', other)).toBeNull();
  });
});
