import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRelayTokenSigner, relayTokenHeader, sha256Hex, type CallerContext } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startFakeHubSpot, startSubgraphUnderTest, type FakeHubSpot, type HubSpotWebhookEvent, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

const publicUrl = 'https://gtm.example.com';
let subgraph: SubgraphUnderTest<SubgraphApp>;
let hubspot: FakeHubSpot;
let relay: Awaited<ReturnType<typeof createRelayTokenSigner>>;
const caller = createTestCaller();
let connectionId: string;

beforeAll(async () => {
  hubspot = await startFakeHubSpot();
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, PUBLIC_URL: publicUrl, CRM_FETCH_ALLOWLIST: '127.0.0.1', CRM_SYNC_OVERLAP_SECONDS: '0', CRM_PROVIDER_RETRY_BASE_MS: '5' }), { onQuery }),
  );
  relay = await createRelayTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem });
  hubspot.seedContacts(20);
  const connected = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id webhookUrl } }`, {
    input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken, portalId: hubspot.portalId }, baseUrl: hubspot.baseUrl, webhookSecret: hubspot.clientSecret },
  });
  connectionId = connected.data!['connectCrm'].id;
  expect(connected.data!['connectCrm'].webhookUrl).toBe(`${publicUrl}/webhooks/crm/${connectionId}`);
  const started = await subgraph.call(caller, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId });
  await waitForRun(started.data!['syncCrm'].id);
  hubspot.pendingEvents.length = 0;
});

afterAll(async () => {
  await subgraph?.close();
  await hubspot?.close();
});

const subgraphOrigin = () => new URL(subgraph.app.url).origin;

/** Posts as the gateway relays: the provider's headers and body, and a relay token for path and body. */
async function post(path: string, body: string, headers: Record<string, string>, options: { relayed?: boolean } = {}) {
  const relayHeaders: Record<string, string> = options.relayed === false ? {} : { [relayTokenHeader]: await relay.sign({ path, bodySha256: sha256Hex(Buffer.from(body)), requestId: 'test' }) };
  const response = await fetch(`${subgraphOrigin()}${path}`, { method: 'POST', headers: { ...headers, ...relayHeaders }, body });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Delivers events as HubSpot signs them (for the public webhook URL). */
async function deliver(events: HubSpotWebhookEvent[], options: { timestamp?: number; secret?: string; connection?: string } = {}) {
  const path = `/webhooks/crm/${options.connection ?? connectionId}`;
  const body = JSON.stringify(events);
  const headers = hubspot.signWebhook({ url: `${publicUrl}${path}`, body, ...options });
  return { ...(await post(path, body, headers)), sent: { headers, body, path } };
}

async function waitForRun(runId: string, who: CallerContext = caller) {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const result = await subgraph.call(who, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 50) { id status trigger created updated unchanged deleted merged failed } } }`, { id: connectionId });
    const run = (result.data!['crmConnection'].syncRuns as Array<Record<string, any>>).find((candidate) => candidate.id === runId);
    if (run && ['SUCCEEDED', 'FAILED'].includes(run['status'])) return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} did not finish`);
}

async function runCount(): Promise<number> {
  const result = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 100) { id } } }`, { id: connectionId });
  return result.data!['crmConnection'].syncRuns.length;
}

async function lead(email: string) {
  const result = await subgraph.call(caller, `query ($search: String) { leads(first: 5, filter: { search: $search }) { edges { node { id email title updatedAt crmRecords { externalId } } } } }`, { search: email });
  return (result.data!['leads'].edges as Array<{ node: any }>).map((edge) => edge.node).find((node) => node.email === email) ?? null;
}

const contactOf = (email: string) => [...hubspot.contacts.values()].find((contact) => contact.properties['email'] === email)!;

describe('HubSpot webhooks through /webhooks/crm/<connectionId>', () => {
  it('applies a signed delivery as a job and answers at once', async () => {
    hubspot.editContact(contactOf('contact1@seed.example.com').id, { jobtitle: 'Webhook title' });
    const delivered = await deliver(hubspot.pendingEvents.splice(0));
    expect(delivered.status).toBe(202);
    expect(delivered.body).toMatchObject({ accepted: 1, duplicates: 0, runId: expect.any(String) });
    const run = await waitForRun(delivered.body['runId']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', trigger: 'webhook', updated: 1 });
    expect((await lead('contact1@seed.example.com')).title).toBe('Webhook title');
  });

  it('applies an event delivered twice (the same event id) once, and refuses a replayed request', async () => {
    hubspot.editContact(contactOf('contact2@seed.example.com').id, { jobtitle: 'Once' });
    const events = hubspot.pendingEvents.splice(0);
    const first = await deliver(events);
    expect(first.body['accepted']).toBe(1);
    await waitForRun(first.body['runId']);
    const runs = await runCount();

    // HubSpot delivering again signs again: a new signature, the same event id.
    const again = await deliver(events, { timestamp: Date.now() + 1 });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 1, runId: null });

    // The very same request sent a second time is a replay.
    const replayed = await post(first.sent.path, first.sent.body, first.sent.headers);
    expect(replayed.status).toBe(401);
    expect(replayed.body['message']).toContain('replay');
    expect(await runCount()).toBe(runs);
  });

  it('refuses a bad signature, an old one, an altered body, a request the gateway did not relay, and an unknown connection — changing nothing', async () => {
    const runs = await runCount();
    hubspot.editContact(contactOf('contact3@seed.example.com').id, { jobtitle: 'Must not arrive' });
    const events = hubspot.pendingEvents.splice(0);

    expect((await deliver(events, { secret: 'attacker-secret' })).status).toBe(401);
    const old = await deliver(events, { timestamp: Date.now() - 6 * 60 * 1000 });
    expect(old.status).toBe(401);

    const path = `/webhooks/crm/${connectionId}`;
    const body = JSON.stringify(events);
    const headers = hubspot.signWebhook({ url: `${publicUrl}${path}`, body });
    expect((await post(path, body.replace('propertyChange', 'deletion'), headers)).status).toBe(401);
    expect((await post(path, body, headers, { relayed: false })).status).toBe(401);
    expect((await deliver(events, { connection: '00000000-0000-4000-8000-000000000000' })).status).toBe(401);

    expect(await runCount()).toBe(runs);
    expect((await lead('contact3@seed.example.com')).title).toBe('Buyer');
  });

  it('follows deletes and merges announced by webhook', async () => {
    hubspot.archiveContact(contactOf('contact4@seed.example.com').id);
    const keep = contactOf('contact5@seed.example.com');
    hubspot.mergeContacts(keep.id, contactOf('contact6@seed.example.com').id);
    const delivered = await deliver(hubspot.pendingEvents.splice(0));
    const run = await waitForRun(delivered.body['runId']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', deleted: 1, merged: 1 });
    expect(await lead('contact4@seed.example.com')).toBeNull();
    expect(await lead('contact6@seed.example.com')).toBeNull();
    expect((await lead('contact5@seed.example.com')).crmRecords).toEqual([{ externalId: keep.id }]);
  });

  it('recognises the webhook echo of its own write', async () => {
    const target = await lead('contact7@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "Pushed from GTM" }) { id } }`, { id: target.id });
    const pushed = await subgraph.call(caller, `mutation ($id: ID!) { syncCrm(connectionId: $id, direction: EXPORT) { id } }`, { id: connectionId });
    expect(await waitForRun(pushed.data!['syncCrm'].id)).toMatchObject({ updated: 1 });
    expect(contactOf('contact7@seed.example.com').properties['jobtitle']).toBe('Pushed from GTM');
    const before = await lead('contact7@seed.example.com');

    // HubSpot tells us about the change we made.
    const echo = hubspot.pendingEvents.splice(0);
    expect(echo).toEqual([expect.objectContaining({ subscriptionType: 'contact.propertyChange', changeSource: 'INTEGRATION', propertyName: 'jobtitle' })]);
    hubspot.server.resetCounts();
    const delivered = await deliver(echo);
    const run = await waitForRun(delivered.body['runId']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', updated: 0, created: 0, unchanged: 1 });
    expect(hubspot.server.counts().writes).toBe(0);
    expect((await lead('contact7@seed.example.com')).updatedAt).toBe(before.updatedAt);
  });
});
