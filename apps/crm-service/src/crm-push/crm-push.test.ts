import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRelayTokenSigner, relayTokenHeader, sha256Hex } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startFakeHubSpot, startFakePipedrive, startSubgraphUnderTest, type FakeHubSpot, type FakePipedrive, type SubgraphUnderTest } from '@gtm/testing';
import { createCrmAppForSyncTests, leadByEmail, runSync } from '../crm-sync/crm-sync.testing.js';
import { importFile } from '../lead-import/lead-import.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let hubspot: FakeHubSpot;
let pipedrive: FakePipedrive;
const caller = createTestCaller();
let hubspotId: string;
let pipedriveId: string;
const publicUrl = 'https://gtm.example.com';

beforeAll(async () => {
  hubspot = await startFakeHubSpot();
  pipedrive = await startFakePipedrive();
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createCrmAppForSyncTests(environment, onQuery, { CRM_PUSH_ON_LEAD_CHANGE: 'true', CRM_PUSH_DELAY_MS: '1000' }));
});

afterAll(async () => {
  await subgraph?.close();
  await hubspot?.close();
  await pipedrive?.close();
});

const runFields = 'id status trigger created updated unchanged failed deleted conflicts message';
const lead = (email: string) => leadByEmail(subgraph, caller, email);
const contactOf = (email: string) => [...hubspot.contacts.values()].find((contact) => !contact.archived && !contact.mergedInto && contact.properties['email'] === email);
const personOf = (email: string) => [...pipedrive.persons.values()].find((person) => person.emails[0]?.value === email);

async function eventually<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never happened: ${what}`);
}

async function runs(connectionId: string): Promise<Array<Record<string, any>>> {
  const result = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 100) { ${runFields} } } }`, { id: connectionId });
  return result.data!['crmConnection'].syncRuns;
}

const pushRuns = async (connectionId: string) => (await runs(connectionId)).filter((run) => run['trigger'] === 'lead-change');

/** Waits until no push run of the connection is queued or running, and answers them all. */
async function pushesSettled(connectionId: string) {
  return eventually('the pushes to finish', async () => {
    const all = await pushRuns(connectionId);
    return all.every((run) => ['SUCCEEDED', 'FAILED'].includes(run['status'])) && all;
  });
}

async function updateLead(id: string, input: string) {
  const result = await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: ${input}) { id updatedAt } }`, { id });
  expect(result.errors).toBeUndefined();
  return result.data!['updateLead'];
}

async function createLead(input: string) {
  const result = await subgraph.call(caller, `mutation { createLead(input: ${input}) { id } }`);
  expect(result.errors).toBeUndefined();
  return result.data!['createLead'].id as string;
}

/** Delivers HubSpot's pending webhook events as it signs them, through the relay; answers the run. */
async function deliverHubSpotEvents(): Promise<Record<string, any>> {
  const events = hubspot.pendingEvents.splice(0);
  const path = `/webhooks/crm/${hubspotId}`;
  const body = JSON.stringify(events);
  const relay = await createRelayTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem });
  const response = await fetch(`${new URL(subgraph.app.url).origin}${path}`, {
    method: 'POST',
    body,
    headers: { ...hubspot.signWebhook({ url: `${publicUrl}${path}`, body }), [relayTokenHeader]: await relay.sign({ path, bodySha256: sha256Hex(Buffer.from(body)), requestId: 'test' }) },
  });
  expect(response.status).toBe(202);
  const { runId } = (await response.json()) as { runId: string };
  return eventually('the webhook run', async () => (await runs(hubspotId)).find((run) => run['id'] === runId && ['SUCCEEDED', 'FAILED'].includes(run['status'])));
}

describe('leads changed here are pushed to every connected CRM', () => {
  it('pushes leads imported from HubSpot to Pipedrive, and nothing back to HubSpot', async () => {
    const hubspotConnection = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, {
      input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken, portalId: hubspot.portalId }, baseUrl: hubspot.baseUrl, webhookSecret: hubspot.clientSecret },
    });
    hubspotId = hubspotConnection.data!['connectCrm'].id;
    const pipedriveConnection = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, {
      input: { provider: 'PIPEDRIVE', credentials: { apiToken: pipedrive.apiToken }, baseUrl: pipedrive.baseUrl },
    });
    pipedriveId = pipedriveConnection.data!['connectCrm'].id;

    hubspot.seedContacts(30);
    hubspot.pendingEvents.length = 0;
    hubspot.server.resetCounts();
    expect(await runSync({ subgraph, connectionId: hubspotId, runFields }, caller, 'IMPORT')).toMatchObject({ status: 'SUCCEEDED', created: 30 });

    // The import's new leads reach Pipedrive on their own, thirty people in one push.
    await eventually('every imported contact in Pipedrive', () => pipedrive.persons.size === 30);
    // One run, or a second for events the consumer handed over after the first had started.
    const toPipedrive = await pushesSettled(pipedriveId);
    expect(toPipedrive.length).toBeLessThanOrEqual(2);
    expect(toPipedrive.every((run) => run['status'] === 'SUCCEEDED' && run['failed'] === 0)).toBe(true);
    expect(toPipedrive.reduce((sum, run) => sum + run['created'], 0)).toBe(30);
    expect(personOf('contact3@seed.example.com')).toBeDefined();

    // …and none of it goes back where it came from.
    expect(await pushRuns(hubspotId)).toHaveLength(0);
    expect(hubspot.server.counts().writes).toBe(0);

    const seen = await lead('contact3@seed.example.com');
    expect(seen.crmRecords.map((record: any) => record.provider).toSorted()).toEqual(['HUBSPOT', 'PIPEDRIVE']);
    const link = seen.crmRecords.find((record: any) => record.provider === 'PIPEDRIVE');
    expect(link.externalId).toBe(String(personOf('contact3@seed.example.com')!.id));
    expect(link.url).toContain(`/person/${link.externalId}`);
  });

  it('pushes the new leads of a CSV import to both CRMs', async () => {
    const result = await importFile(subgraph, caller, 'Email,First Name,Last Name\nada@csv.example.com,Ada,Lovelace\ngrace@csv.example.com,Grace,Hopper\n');
    expect(result).toMatchObject({ status: 'SUCCEEDED', imported: 2 });
    await eventually('both imported leads in Pipedrive and HubSpot', () => ['ada@csv.example.com', 'grace@csv.example.com'].every((email) => personOf(email) && contactOf(email)));
    await pushesSettled(pipedriveId);
    await pushesSettled(hubspotId);
    expect(personOf('grace@csv.example.com')!.name).toBe('Grace Hopper');
  });

  it('pushes an edit made here to both CRMs, and recognises its echo by webhook and by the next import', async () => {
    const here = await lead('contact4@seed.example.com');
    const edited = await updateLead(here.id, '{ title: "Head of Revenue" }');
    await eventually('the title at HubSpot', () => contactOf('contact4@seed.example.com')?.properties['jobtitle'] === 'Head of Revenue');
    await eventually('the title at Pipedrive', () => personOf('contact4@seed.example.com')?.job_title === 'Head of Revenue');
    await pushesSettled(hubspotId);
    await pushesSettled(pipedriveId);

    // HubSpot reports our own write back by webhook: recognised, nothing applied, nothing pushed again.
    expect(hubspot.pendingEvents.some((event) => event.propertyName === 'jobtitle' && event.changeSource === 'INTEGRATION')).toBe(true);
    expect(await deliverHubSpotEvents()).toMatchObject({ status: 'SUCCEEDED', trigger: 'webhook', updated: 0, created: 0 });
    expect((await lead('contact4@seed.example.com')).updatedAt).toBe(edited.updatedAt);

    hubspot.server.resetCounts();
    pipedrive.server.resetCounts();
    expect(await runSync({ subgraph, connectionId: hubspotId, runFields }, caller)).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, conflicts: 0 });
    expect(await runSync({ subgraph, connectionId: pipedriveId, runFields }, caller)).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, conflicts: 0 });
    expect(hubspot.server.counts().writes + pipedrive.server.counts().writes).toBe(0);
    expect((await lead('contact4@seed.example.com')).updatedAt).toBe(edited.updatedAt);
  });

  it('gathers many changes into one batched push per CRM', async () => {
    const before = { hubspot: (await pushRuns(hubspotId)).length, pipedrive: (await pushRuns(pipedriveId)).length };
    hubspot.server.resetCounts();
    const indexes = Array.from({ length: 10 }, (_, offset) => 10 + offset);
    const leads = await Promise.all(indexes.map((index) => lead(`contact${index}@seed.example.com`)));
    await Promise.all(indexes.map((index, offset) => updateLead(leads[offset].id, `{ phone: "+1 555 01${index}" }`)));
    await eventually('the phones at HubSpot', () => contactOf('contact19@seed.example.com')?.properties['phone'] === '+1 555 0119');
    await eventually('the phones at Pipedrive', () => personOf('contact19@seed.example.com')?.phones[0]?.value === '+1 555 0119');
    // Ten changes, one batch update for them all — or two when the consumer hands the events over
    // in two waves, the second after the run started (a loaded machine): never one call per change.
    const toHubSpot = await pushesSettled(hubspotId);
    expect(toHubSpot.length - before.hubspot).toBeLessThanOrEqual(2);
    expect(toHubSpot.slice(0, toHubSpot.length - before.hubspot).reduce((sum, run) => sum + run['updated'], 0)).toBe(10);
    expect(hubspot.server.counts().writes).toBeLessThanOrEqual(2);
    expect((await pushesSettled(pipedriveId)).length - before.pipedrive).toBeLessThanOrEqual(2);
    expect(contactOf('contact10@seed.example.com')?.properties['phone']).toBe('+1 555 0110');
  });

  it('pushes an edit made at HubSpot on to Pipedrive only', async () => {
    const contact = contactOf('contact5@seed.example.com')!;
    hubspot.pendingEvents.length = 0;
    hubspot.editContact(contact.id, { jobtitle: 'Set in HubSpot' });
    hubspot.server.resetCounts();
    expect(await deliverHubSpotEvents()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    await eventually('the HubSpot edit at Pipedrive', () => personOf('contact5@seed.example.com')?.job_title === 'Set in HubSpot');
    await pushesSettled(pipedriveId);
    expect(hubspot.server.counts().writes).toBe(0);
  });

  it('creates a lead made here in both CRMs, and deletes it in both when it is deleted here', async () => {
    const id = await createLead('{ email: "grace@push.example.com", firstName: "Grace", lastName: "Hopper", title: "Admiral" }');
    await eventually('Grace at HubSpot', () => contactOf('grace@push.example.com'));
    await eventually('Grace at Pipedrive', () => personOf('grace@push.example.com'));
    await eventually('both links', async () => (await lead('grace@push.example.com')).crmRecords.length === 2);
    const hubspotRecord = contactOf('grace@push.example.com')!;

    const deleted = await subgraph.call(caller, `mutation ($id: ID!) { deleteLead(id: $id) }`, { id });
    expect(deleted.errors).toBeUndefined();
    await eventually('Grace archived at HubSpot', () => hubspot.contacts.get(hubspotRecord.id)?.archived);
    await eventually('Grace gone from Pipedrive', () => !personOf('grace@push.example.com'));
    const runsToHubSpot = await pushesSettled(hubspotId);
    expect(runsToHubSpot[0]).toMatchObject({ status: 'SUCCEEDED', deleted: 1 });
    expect(await lead('grace@push.example.com')).toBeNull();
  });

  it('rides out a 429 storm longer than one run’s retries: the run is tried again and the push arrives', async () => {
    const here = await lead('contact6@seed.example.com');
    pipedrive.inject({ kind: 'rate-limit', count: 8, retryAfterSeconds: 0.01 });
    await updateLead(here.id, '{ title: "After the storm" }');
    await eventually('the title at Pipedrive', () => personOf('contact6@seed.example.com')?.job_title === 'After the storm');
    const [last] = await pushesSettled(pipedriveId);
    expect(last).toMatchObject({ status: 'SUCCEEDED', updated: 1, failed: 0 });
  });

  it('parks a push HubSpot refuses as a dead letter, still reaching Pipedrive, and replays it once fixed', async () => {
    const taken = hubspot.createContact({ email: 'taken@push.example.com', firstname: 'Already', lastname: 'There' });
    const here = await lead('contact7@seed.example.com');
    await updateLead(here.id, '{ email: "taken@push.example.com" }');
    await eventually('the email at Pipedrive', () => personOf('taken@push.example.com'));
    const [refused] = await pushesSettled(hubspotId);
    expect(refused).toMatchObject({ status: 'SUCCEEDED', failed: 1 });
    const letters = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { deadLetters { direction leadId errorKind error } } }`, { id: hubspotId });
    expect(letters.data!['crmConnection'].deadLetters).toEqual([expect.objectContaining({ direction: 'EXPORT', leadId: here.id })]);
    expect(letters.data!['crmConnection'].deadLetters[0].error).toContain('already exists');

    hubspot.archiveContact(taken.id);
    expect((await subgraph.call(caller, `mutation ($id: ID!) { retryCrmDeadLetters(connectionId: $id) }`, { id: hubspotId })).data!['retryCrmDeadLetters']).toBe(1);
    await eventually('the email at HubSpot', () => contactOf('taken@push.example.com')?.properties['firstname'] === 'First7');
    await eventually('no dead letter left', async () => (await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { deadLetters { id } } }`, { id: hubspotId })).data!['crmConnection'].deadLetters.length === 0);
  });

  it('pushes nothing to another tenant’s CRMs', async () => {
    const other = createTestCaller();
    const before = hubspot.contacts.size;
    const created = await subgraph.call(other, `mutation { createLead(input: { email: "stranger@other.example.com", firstName: "Stranger" }) { id } }`);
    expect(created.errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(hubspot.contacts.size).toBe(before);
    expect(personOf('stranger@other.example.com')).toBeUndefined();
  });
});
