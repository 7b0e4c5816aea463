import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRelayTokenSigner, relayTokenHeader, sha256Hex, type CallerContext } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startFakePipedrive, type FakePipedrive, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createCrmAppForSyncTests, leadByEmail, runSync, waitForSyncRun } from './crm-sync.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let pipedrive: FakePipedrive;
const caller = createTestCaller();
let connectionId: string;

beforeAll(async () => {
  pipedrive = await startFakePipedrive();
  subgraph = await startSubgraphUnderTest(createCrmAppForSyncTests);
});

afterAll(async () => {
  await subgraph?.close();
  await pipedrive?.close();
});

const runFields = 'id status created updated unchanged failed conflicts deleted merged trigger message';
const target = () => ({ subgraph, connectionId, runFields });
const waitForRun = (runId: string, who: CallerContext = caller) => waitForSyncRun(target(), who, runId);
const sync = (direction = 'BOTH') => runSync(target(), caller, direction);
const lead = (email: string, who: CallerContext = caller) => leadByEmail(subgraph, who, email);

const personOf = (email: string) => [...pipedrive.persons.values()].find((person) => person.emails[0]?.value === email)!;

async function postWebhook(body: string, headers: Record<string, string>) {
  const relay = await createRelayTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem });
  const path = `/webhooks/crm/${connectionId}`;
  const response = await fetch(`${new URL(subgraph.app.url).origin}${path}`, { method: 'POST', body, headers: { ...headers, [relayTokenHeader]: await relay.sign({ path, bodySha256: sha256Hex(Buffer.from(body)), requestId: 'test' }) } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('two-way sync with Pipedrive', () => {
  it('connects with the API token, checked with Pipedrive, and refuses a wrong one with Pipedrive’s words', async () => {
    const wrong = await subgraph.call(createTestCaller(), `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, { input: { provider: 'PIPEDRIVE', credentials: { apiToken: 'wrong' }, baseUrl: pipedrive.baseUrl } });
    expect(wrong.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'credentials' } });
    expect(wrong.errors?.[0]?.message).toContain('unauthorized access');
    const result = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id accountName } }`, {
      input: { provider: 'PIPEDRIVE', credentials: { apiToken: pipedrive.apiToken }, baseUrl: pipedrive.baseUrl, webhookSecret: `${pipedrive.webhookUser}:${pipedrive.webhookPassword}` },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!['connectCrm'].accountName).toBe('Fake Pipedrive Co');
    connectionId = result.data!['connectCrm'].id;
  });

  it('imports every person over many pages by updated_since, then an unchanged run writes nothing', async () => {
    pipedrive.seedPersons(1_200);
    const run = await sync('IMPORT');
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 1_200, failed: 0 });
    expect(await lead('person7@seed.example.com')).toMatchObject({ firstName: 'First7', lastName: 'Last7', title: 'Buyer', company: { name: 'Company 7' }, crmRecords: [{ provider: 'PIPEDRIVE' }] });
    pipedrive.server.resetCounts();
    const again = await sync();
    expect(again).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, failed: 0 });
    expect(pipedrive.server.counts().writes).toBe(0);
  });

  it('brings edits from Pipedrive, sends edits from here, settles a conflict by the later change, and does not ping-pong', async () => {
    pipedrive.editPerson(personOf('person1@seed.example.com').id, { job_title: 'VP Sales' });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    expect((await lead('person1@seed.example.com')).title).toBe('VP Sales');

    const here = await lead('person2@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { lastName: "Hopper" }) { id } }`, { id: here.id });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    expect(personOf('person2@seed.example.com')).toMatchObject({ last_name: 'Hopper', name: 'First2 Hopper' });

    const conflicted = await lead('person3@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "From GTM" }) { id } }`, { id: conflicted.id });
    await new Promise((resolve) => setTimeout(resolve, 10));
    pipedrive.editPerson(personOf('person3@seed.example.com').id, { job_title: 'From Pipedrive' });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', conflicts: 1 });
    expect((await lead('person3@seed.example.com')).title).toBe('From Pipedrive');

    pipedrive.server.resetCounts();
    const before = await lead('person2@seed.example.com');
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 0, created: 0 });
    expect(pipedrive.server.counts().writes).toBe(0);
    expect((await lead('person2@seed.example.com')).updatedAt).toBe(before.updatedAt);
  });

  it('pushes a lead made here with its organization, matching an existing person by email first', async () => {
    await subgraph.call(caller, `mutation { createLead(input: { email: "nova@fresh.example.com", firstName: "Nova", lastName: "Newman" }) { id } }`);
    expect(await sync('EXPORT')).toMatchObject({ status: 'SUCCEEDED', created: 1, failed: 0 });
    expect(personOf('nova@fresh.example.com')).toMatchObject({ first_name: 'Nova', last_name: 'Newman' });
  });

  it('verifies webhooks by basic auth (good, bad, replayed), and follows a delete and a merge sent by webhook', async () => {
    const { webhook } = pipedrive.editPerson(personOf('person8@seed.example.com').id, { job_title: 'Via webhook' });
    expect((await postWebhook(webhook, pipedrive.webhookHeaders('pipedrive-hook', 'wrong-password'))).status).toBe(401);
    expect((await postWebhook(webhook, { 'content-type': 'application/json' })).status).toBe(401);
    const good = await postWebhook(webhook, pipedrive.webhookHeaders());
    expect(good).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect(await waitForRun(good.body['runId'])).toMatchObject({ status: 'SUCCEEDED', trigger: 'webhook', updated: 1 });
    expect((await lead('person8@seed.example.com')).title).toBe('Via webhook');
    expect((await postWebhook(webhook, pipedrive.webhookHeaders())).status).toBe(401);

    const deleted = await postWebhook(pipedrive.deletePerson(personOf('person9@seed.example.com').id), pipedrive.webhookHeaders());
    expect(await waitForRun(deleted.body['runId'])).toMatchObject({ status: 'SUCCEEDED', deleted: 1 });
    expect(await lead('person9@seed.example.com')).toBeNull();

    const keep = personOf('person10@seed.example.com');
    const merged = await postWebhook(pipedrive.deletePerson(personOf('person11@seed.example.com').id, keep.id), pipedrive.webhookHeaders());
    expect(merged.body).toMatchObject({ accepted: 1 });
    expect(await waitForRun(merged.body['runId'])).toMatchObject({ status: 'SUCCEEDED', merged: 1 });
    expect(await lead('person11@seed.example.com')).toBeNull();
    expect((await lead('person10@seed.example.com')).crmRecords).toEqual([expect.objectContaining({ externalId: String(keep.id) })]);
  });

  it('rides out 429s, and dead-letters a record it cannot hold until it is fixed and replayed', async () => {
    pipedrive.editPerson(personOf('person5@seed.example.com').id, { job_title: 'x'.repeat(400) });
    pipedrive.editPerson(personOf('person6@seed.example.com').id, { job_title: 'Survived the storm' });
    pipedrive.inject({ kind: 'rate-limit', count: 4, retryAfterSeconds: 0.05 });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', failed: 1 });
    expect((await lead('person6@seed.example.com')).title).toBe('Survived the storm');
    pipedrive.editPerson(personOf('person5@seed.example.com').id, { job_title: 'Fixed' });
    expect((await subgraph.call(caller, `mutation ($id: ID!) { retryCrmDeadLetters(connectionId: $id) }`, { id: connectionId })).data!['retryCrmDeadLetters']).toBe(1);
    const runs = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 1) { id } } }`, { id: connectionId });
    expect(await waitForRun(runs.data!['crmConnection'].syncRuns[0].id)).toMatchObject({ status: 'SUCCEEDED', trigger: 'replay', failed: 0 });
    expect((await lead('person5@seed.example.com')).title).toBe('Fixed');
  });

  it('keeps the connection and its leads to its tenant', async () => {
    const other = createTestCaller();
    expect((await subgraph.call(other, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect(await lead('person1@seed.example.com', other)).toBeNull();
  });
});
