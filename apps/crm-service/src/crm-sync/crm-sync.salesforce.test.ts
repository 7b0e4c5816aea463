import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRelayTokenSigner, relayTokenHeader, sha256Hex, type CallerContext } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startFakeSalesforce, type FakeSalesforce, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createCrmAppForSyncTests, leadByEmail, runSync, waitForSyncRun } from './crm-sync.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let salesforce: FakeSalesforce;
const caller = createTestCaller();
let connectionId: string;

beforeAll(async () => {
  salesforce = await startFakeSalesforce();
  subgraph = await startSubgraphUnderTest(createCrmAppForSyncTests);
});

afterAll(async () => {
  await subgraph?.close();
  await salesforce?.close();
});

const runFields = 'id status created updated unchanged failed conflicts deleted merged trigger message';
const target = () => ({ subgraph, connectionId, runFields });
const waitForRun = (runId: string, who: CallerContext = caller) => waitForSyncRun(target(), who, runId);
const sync = (direction = 'BOTH') => runSync(target(), caller, direction);
const lead = (email: string, who: CallerContext = caller) => leadByEmail(subgraph, who, email);

const leadOf = (email: string) => [...salesforce.leads.values()].find((row) => row.Email === email && !row.IsDeleted)!;

describe('two-way sync with Salesforce (polling)', () => {
  it('connects through an OAuth refresh token, checked with Salesforce, and refuses a revoked one with Salesforce’s words', async () => {
    const wrong = await subgraph.call(createTestCaller(), `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, { input: { provider: 'SALESFORCE', credentials: { ...salesforce.oauth, refreshToken: 'revoked' }, baseUrl: salesforce.baseUrl } });
    expect(wrong.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'credentials' } });
    expect(wrong.errors?.[0]?.message).toContain('expired access/refresh token');
    const result = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id accountName } }`, { input: { provider: 'SALESFORCE', credentials: salesforce.oauth, baseUrl: salesforce.baseUrl } });
    expect(result.errors).toBeUndefined();
    expect(result.data!['connectCrm'].accountName).toBe('Fake Salesforce Org');
    connectionId = result.data!['connectCrm'].id;
  });

  it('imports every lead over many SOQL pages on SystemModstamp, then an unchanged run writes nothing', async () => {
    salesforce.seedLeads(1_200);
    expect(await sync('IMPORT')).toMatchObject({ status: 'SUCCEEDED', created: 1_200, failed: 0 });
    expect(await lead('lead7@seed.example.com')).toMatchObject({ firstName: 'First7', lastName: 'Last7', title: 'Buyer', company: { name: 'Company 7', domain: 'company7.example.com' }, crmRecords: [{ provider: 'SALESFORCE' }] });
    salesforce.server.resetCounts();
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, failed: 0 });
    expect(salesforce.server.counts().writes).toBe(0);
  });

  it('brings edits from Salesforce, sends edits from here, settles a conflict by the later change, and does not ping-pong', async () => {
    salesforce.editLead(leadOf('lead1@seed.example.com').Id, { Title: 'VP Sales' });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    expect((await lead('lead1@seed.example.com')).title).toBe('VP Sales');

    const here = await lead('lead2@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { lastName: "Hopper" }) { id } }`, { id: here.id });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    expect(leadOf('lead2@seed.example.com').LastName).toBe('Hopper');

    const conflicted = await lead('lead3@seed.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "From GTM" }) { id } }`, { id: conflicted.id });
    await new Promise((resolve) => setTimeout(resolve, 10));
    salesforce.editLead(leadOf('lead3@seed.example.com').Id, { Title: 'From Salesforce' });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', conflicts: 1 });
    expect((await lead('lead3@seed.example.com')).title).toBe('From Salesforce');

    salesforce.server.resetCounts();
    const before = await lead('lead2@seed.example.com');
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', updated: 0, created: 0 });
    expect(salesforce.server.counts().writes).toBe(0);
    expect((await lead('lead2@seed.example.com')).updatedAt).toBe(before.updatedAt);
  });

  it('pushes a lead made here, and follows a delete and a merge found by getDeleted', async () => {
    await subgraph.call(caller, `mutation { createLead(input: { email: "nova@fresh.example.com", firstName: "Nova", lastName: "Newman" }) { id } }`);
    expect(await sync('EXPORT')).toMatchObject({ status: 'SUCCEEDED', created: 1, failed: 0 });
    expect(leadOf('nova@fresh.example.com')).toMatchObject({ FirstName: 'Nova', LastName: 'Newman' });

    salesforce.deleteLead(leadOf('lead9@seed.example.com').Id);
    const master = leadOf('lead10@seed.example.com');
    salesforce.mergeLeads(master.Id, leadOf('lead11@seed.example.com').Id);
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', deleted: 1, merged: 1 });
    expect(await lead('lead9@seed.example.com')).toBeNull();
    expect(await lead('lead11@seed.example.com')).toBeNull();
    expect((await lead('lead10@seed.example.com')).crmRecords).toEqual([expect.objectContaining({ externalId: master.Id })]);
  });

  it('pushes many edits in one sObject Collections call, a record gone meanwhile failing alone', async () => {
    const emails = ['lead20@seed.example.com', 'lead21@seed.example.com', 'lead22@seed.example.com'];
    for (const email of emails) await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "Batched" }) { id } }`, { id: (await lead(email)).id });
    salesforce.deleteLead(leadOf('lead22@seed.example.com').Id);
    salesforce.server.resetCounts();
    const requestsBefore = salesforce.server.requests.length;
    expect(await sync('EXPORT')).toMatchObject({ status: 'SUCCEEDED', updated: 2, failed: 0 });
    // A run's first call may meet an expired session (401) and go again after the OAuth refresh.
    const collectionCalls = salesforce.server.requests.slice(requestsBefore).filter((request) => request.url.includes('/composite/sobjects') && request.status !== 401);
    expect(collectionCalls.map((request) => `${request.method} ${request.status}`)).toEqual(['PATCH 200']);
    expect(leadOf('lead20@seed.example.com').Title).toBe('Batched');
    expect(leadOf('lead21@seed.example.com').Title).toBe('Batched');
  });

  it('rides out request-limit refusals, and dead-letters a record it cannot hold until it is fixed and replayed', async () => {
    salesforce.editLead(leadOf('lead5@seed.example.com').Id, { Title: 'x'.repeat(400) });
    salesforce.editLead(leadOf('lead6@seed.example.com').Id, { Title: 'Survived' });
    salesforce.inject({ kind: 'rate-limit', count: 3 });
    expect(await sync()).toMatchObject({ status: 'SUCCEEDED', failed: 1 });
    expect((await lead('lead6@seed.example.com')).title).toBe('Survived');
    salesforce.editLead(leadOf('lead5@seed.example.com').Id, { Title: 'Fixed' });
    expect((await subgraph.call(caller, `mutation ($id: ID!) { retryCrmDeadLetters(connectionId: $id) }`, { id: connectionId })).data!['retryCrmDeadLetters']).toBe(1);
    const runs = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 1) { id } } }`, { id: connectionId });
    expect(await waitForRun(runs.data!['crmConnection'].syncRuns[0].id)).toMatchObject({ status: 'SUCCEEDED', trigger: 'replay', failed: 0 });
    expect((await lead('lead5@seed.example.com')).title).toBe('Fixed');
  });

  it('takes no webhook: Salesforce is polled', async () => {
    const relay = await createRelayTokenSigner({ privateKeyPem: subgraph.callerKeys.keys.privateKeyPem });
    const path = `/webhooks/crm/${connectionId}`;
    const body = '<soapenv:Envelope/>';
    const response = await fetch(`${new URL(subgraph.app.url).origin}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/xml', [relayTokenHeader]: await relay.sign({ path, bodySha256: sha256Hex(Buffer.from(body)), requestId: 'test' }) } });
    expect(response.status).toBe(401);
  });

  it('keeps the connection and its leads to its tenant', async () => {
    const other = createTestCaller();
    expect((await subgraph.call(other, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect(await lead('lead1@seed.example.com', other)).toBeNull();
  });
});
