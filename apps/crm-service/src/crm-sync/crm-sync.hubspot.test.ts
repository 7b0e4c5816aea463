import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import type { CallerContext as TestCaller } from '@gtm/caller';
import { createTestCaller, startFakeHubSpot, startSubgraphUnderTest, type FakeHubSpot, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let hubspot: FakeHubSpot;

beforeAll(async () => {
  hubspot = await startFakeHubSpot();
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(
      loadConfig({
        ...environment,
        CRM_FETCH_ALLOWLIST: '127.0.0.1',
        CRM_SYNC_OVERLAP_SECONDS: '0',
        CRM_PROVIDER_RETRY_BASE_MS: '5',
        JOB_WORKER_CONCURRENCY: '2',
        // These tests follow what each syncCrm run does; pushing on lead events has its own tests.
        CRM_PUSH_ON_LEAD_CHANGE: 'false',
      }),
      { onQuery },
    ),
  );
});

afterAll(async () => {
  await subgraph?.close();
  await hubspot?.close();
});

const runFields = 'id status direction created updated unchanged failed conflicts deleted merged message pausedUntil trigger';

interface Run {
  id: string;
  status: string;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  conflicts: number;
  deleted: number;
  merged: number;
  message: string | null;
  pausedUntil: string | null;
  trigger: string;
}

async function connect(caller: TestCaller, fake: FakeHubSpot = hubspot): Promise<string> {
  const result = await subgraph.call(caller, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, {
    input: { provider: 'HUBSPOT', credentials: { accessToken: fake.accessToken, portalId: fake.portalId }, baseUrl: fake.baseUrl, webhookSecret: fake.clientSecret },
  });
  expect(result.errors).toBeUndefined();
  return result.data!['connectCrm'].id;
}

async function waitForRun(caller: TestCaller, connectionId: string, runId: string, until: (run: Run) => boolean = (run) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)): Promise<Run> {
  for (let attempt = 0; attempt < 1_200; attempt += 1) {
    const result = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 100) { ${runFields} } } }`, { id: connectionId });
    const run = (result.data!['crmConnection'].syncRuns as Run[]).find((candidate) => candidate.id === runId);
    if (run && until(run)) return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} did not finish`);
}

async function sync(caller: TestCaller, connectionId: string, variables: { direction?: string; full?: boolean } = {}): Promise<Run> {
  const started = await subgraph.call(caller, `mutation ($id: ID!, $direction: SyncDirection, $full: Boolean) { syncCrm(connectionId: $id, direction: $direction, full: $full) { ${runFields} } }`, { id: connectionId, ...variables });
  expect(started.errors).toBeUndefined();
  expect(started.data!['syncCrm'].status).toBe('QUEUED');
  return waitForRun(caller, connectionId, started.data!['syncCrm'].id);
}

async function leadByEmail(caller: TestCaller, email: string) {
  const result = await subgraph.call(caller, `query ($search: String) { leads(first: 5, filter: { search: $search }) { edges { node { id email firstName lastName title phone updatedAt source company { name domain } crmRecords { provider externalId url lastSyncedAt } } } } }`, { search: email });
  return (result.data!['leads'].edges as Array<{ node: any }>).map((edge) => edge.node).find((lead) => lead.email === email) ?? null;
}

async function count(sql: string, parameters: unknown[] = []): Promise<number> {
  const rows = await subgraph.app.database.orm.em.getConnection().execute(sql, parameters);
  return Number(rows[0]!.count);
}

describe('two-way sync with HubSpot', () => {
  const caller = createTestCaller();
  let connectionId: string;

  it('imports every contact over many pages, each a lead linked to its record', async () => {
    hubspot.seedContacts(2_500, (index) => ({ email: `person${index}@acme${index % 50}.example.com`, firstname: `Ada${index}`, lastname: `Byron${index}`, jobtitle: 'Buyer', company: `Acme ${index % 50}`, website: `https://acme${index % 50}.example.com` }));
    connectionId = await connect(caller);
    hubspot.server.resetCounts();
    const run = await sync(caller, connectionId, { direction: 'IMPORT' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 2_500, updated: 0, failed: 0 });
    expect(hubspot.server.counts().requests).toBeGreaterThanOrEqual(25);
    expect(hubspot.server.counts().writes).toBe(0);
    expect(await count(`select count(*) from crm.lead where tenant_id = ?`, [caller.tenantId])).toBe(2_500);
    expect(await count(`select count(*) from crm.company where tenant_id = ?`, [caller.tenantId])).toBe(50);
    const lead = await leadByEmail(caller, 'person7@acme7.example.com');
    const contact = [...hubspot.contacts.values()].find((candidate) => candidate.properties['email'] === 'person7@acme7.example.com')!;
    expect(lead).toMatchObject({ firstName: 'Ada7', lastName: 'Byron7', title: 'Buyer', source: 'hubspot', company: { name: 'Acme 7', domain: 'acme7.example.com' } });
    expect(lead.crmRecords).toEqual([{ provider: 'HUBSPOT', externalId: contact.id, url: `https://app.hubspot.com/contacts/${hubspot.portalId}/record/0-1/${contact.id}`, lastSyncedAt: expect.any(String) }]);
    // 2,500 contacts over 25 pages, each a lead, a link and an event: minutes on a loaded machine.
  }, 240_000);

  it('changes nothing on either side when nothing changed', async () => {
    hubspot.server.resetCounts();
    const before = await count(`select count(*) from crm.lead where tenant_id = ? and updated_at > now() - interval '1 hour'`, [caller.tenantId]);
    const run = await sync(caller, connectionId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, failed: 0, conflicts: 0 });
    expect(hubspot.server.counts().writes).toBe(0);
    expect(await count(`select count(*) from crm.lead where tenant_id = ? and updated_at > now() - interval '1 hour'`, [caller.tenantId])).toBe(before);
  });

  it('brings an edit made in HubSpot here, and an edit made here to HubSpot', async () => {
    const contact = [...hubspot.contacts.values()].find((candidate) => candidate.properties['email'] === 'person1@acme1.example.com')!;
    hubspot.editContact(contact.id, { jobtitle: 'VP Sales', phone: '+1 555 0100' });
    const imported = await sync(caller, connectionId);
    expect(imported).toMatchObject({ status: 'SUCCEEDED', updated: 1, created: 0, failed: 0 });
    expect(await leadByEmail(caller, 'person1@acme1.example.com')).toMatchObject({ title: 'VP Sales', phone: '+1 555 0100' });

    const lead = await leadByEmail(caller, 'person2@acme2.example.com');
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "Chief Revenue Officer" }) { id } }`, { id: lead.id });
    hubspot.server.resetCounts();
    const exported = await sync(caller, connectionId);
    expect(exported).toMatchObject({ status: 'SUCCEEDED', updated: 1, failed: 0 });
    const target = [...hubspot.contacts.values()].find((candidate) => candidate.properties['email'] === 'person2@acme2.example.com')!;
    expect(target.properties['jobtitle']).toBe('Chief Revenue Officer');
    expect(hubspot.server.counts().writes).toBe(1);
  });

  it('recognises the echo of its own write: no ping-pong', async () => {
    // The write above changed HubSpot's lastmodifieddate; the next runs see it and change nothing.
    hubspot.server.resetCounts();
    const lead = await leadByEmail(caller, 'person2@acme2.example.com');
    const echo = await sync(caller, connectionId);
    expect(echo).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, failed: 0 });
    expect(hubspot.server.counts().writes).toBe(0);
    expect((await leadByEmail(caller, 'person2@acme2.example.com')).updatedAt).toBe(lead.updatedAt);
  });

  it('settles a true conflict per field by the later change', async () => {
    const contact = [...hubspot.contacts.values()].find((candidate) => candidate.properties['email'] === 'person3@acme3.example.com')!;
    const lead = await leadByEmail(caller, 'person3@acme3.example.com');
    // Here first, then HubSpot: HubSpot's title is later and wins; our phone (changed only here) goes there.
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "Title from GTM", phone: "+44 20 7946 0000" }) { id } }`, { id: lead.id });
    await new Promise((resolve) => setTimeout(resolve, 10));
    hubspot.editContact(contact.id, { jobtitle: 'Title from HubSpot' });
    const first = await sync(caller, connectionId);
    expect(first).toMatchObject({ status: 'SUCCEEDED', conflicts: 1, failed: 0 });
    expect(await leadByEmail(caller, 'person3@acme3.example.com')).toMatchObject({ title: 'Title from HubSpot', phone: '+44 20 7946 0000' });
    expect(hubspot.contacts.get(contact.id)!.properties).toMatchObject({ jobtitle: 'Title from HubSpot', phone: '+44 20 7946 0000' });

    // HubSpot first, then here: ours is later and wins.
    hubspot.editContact(contact.id, { jobtitle: 'Older HubSpot title' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await subgraph.call(caller, `mutation ($id: ID!) { updateLead(id: $id, input: { title: "Newer GTM title" }) { id } }`, { id: lead.id });
    const second = await sync(caller, connectionId);
    expect(second).toMatchObject({ status: 'SUCCEEDED', conflicts: 1 });
    expect(hubspot.contacts.get(contact.id)!.properties['jobtitle']).toBe('Newer GTM title');
    expect((await leadByEmail(caller, 'person3@acme3.example.com')).title).toBe('Newer GTM title');
  });

  it('pushes a lead created here, matching an existing HubSpot contact by email instead of duplicating it', async () => {
    await subgraph.call(caller, `mutation { createLead(input: { email: "new.person@fresh.example.com", firstName: "Nova", lastName: "Newman" }) { id } }`);
    const existing = hubspot.createContact({ email: 'grace@hopper.example.com', firstname: 'Grace' });
    hubspot.pendingEvents.length = 0;
    const run = await sync(caller, connectionId, { direction: 'EXPORT' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 1, failed: 0 });
    const created = [...hubspot.contacts.values()].find((candidate) => candidate.properties['email'] === 'new.person@fresh.example.com');
    expect(created?.properties).toMatchObject({ firstname: 'Nova', lastname: 'Newman' });
    expect((await leadByEmail(caller, 'new.person@fresh.example.com')).crmRecords[0].externalId).toBe(created!.id);

    await subgraph.call(caller, `mutation { createLead(input: { email: "grace@hopper.example.com", lastName: "Hopper" }) { id } }`);
    await sync(caller, connectionId, { direction: 'EXPORT' });
    expect([...hubspot.contacts.values()].filter((candidate) => candidate.properties['email'] === 'grace@hopper.example.com')).toHaveLength(1);
    expect(hubspot.contacts.get(existing.id)!.properties).toMatchObject({ firstname: 'Grace', lastname: 'Hopper' });
    const grace = await leadByEmail(caller, 'grace@hopper.example.com');
    expect(grace).toMatchObject({ firstName: 'Grace', lastName: 'Hopper' });
    expect(grace.crmRecords[0].externalId).toBe(existing.id);
  });

  it('follows a delete and a merge made in HubSpot', async () => {
    const byEmail = (email: string) => [...hubspot.contacts.values()].find((candidate) => candidate.properties['email'] === email)!;
    hubspot.archiveContact(byEmail('person10@acme10.example.com').id);
    const keep = byEmail('person11@acme11.example.com');
    const gone = byEmail('person12@acme12.example.com');
    hubspot.mergeContacts(keep.id, gone.id);
    const run = await sync(caller, connectionId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', deleted: 1, merged: 1, failed: 0 });
    expect(await leadByEmail(caller, 'person10@acme10.example.com')).toBeNull();
    expect(await leadByEmail(caller, 'person12@acme12.example.com')).toBeNull();
    const survivor = await leadByEmail(caller, 'person11@acme11.example.com');
    expect(survivor.crmRecords).toEqual([expect.objectContaining({ externalId: keep.id })]);
    expect(await count(`select count(*) from crm.crm_record_link where external_id = ?`, [gone.id])).toBe(0);
  });

  it('rides out a storm of 429s', async () => {
    hubspot.editContact([...hubspot.contacts.values()].find((candidate) => candidate.properties['email'] === 'person20@acme20.example.com')!.id, { jobtitle: 'Storm survivor' });
    hubspot.inject({ kind: 'rate-limit', count: 4, retryAfterSeconds: 0.05 });
    const run = await sync(caller, connectionId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
    expect((await leadByEmail(caller, 'person20@acme20.example.com')).title).toBe('Storm survivor');
    expect(hubspot.server.requests.filter((request) => request.status === 429).length).toBeGreaterThanOrEqual(4);
  });

  it('puts a poisoned record in the dead letters without stopping the sync, and replays it once fixed', async () => {
    const poisoned = hubspot.createContact({ email: 'poison@example.com', firstname: 'x'.repeat(250) });
    const healthy = hubspot.createContact({ email: 'healthy@example.com', firstname: 'Healthy' });
    const run = await sync(caller, connectionId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', failed: 1, created: 1 });
    expect(await leadByEmail(caller, 'healthy@example.com')).toMatchObject({ firstName: 'Healthy' });
    const letters = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { deadLetters { direction externalId error attempts } } }`, { id: connectionId });
    expect(letters.data!['crmConnection'].deadLetters).toEqual([{ direction: 'IMPORT', externalId: poisoned.id, error: expect.stringContaining('FIRST_NAME is longer than 200 characters'), attempts: 1 }]);
    expect(healthy.id).not.toBe(poisoned.id);

    hubspot.editContact(poisoned.id, { firstname: 'Antidote' });
    const replayed = await subgraph.call(caller, `mutation ($id: ID!) { retryCrmDeadLetters(connectionId: $id) }`, { id: connectionId });
    expect(replayed.data!['retryCrmDeadLetters']).toBe(1);
    const runs = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 1) { id trigger } } }`, { id: connectionId });
    const replayRun = await waitForRun(caller, connectionId, runs.data!['crmConnection'].syncRuns[0].id);
    expect(replayRun).toMatchObject({ status: 'SUCCEEDED', trigger: 'replay', created: 1, failed: 0 });
    expect(await leadByEmail(caller, 'poison@example.com')).toMatchObject({ firstName: 'Antidote' });
    const after = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { deadLetters { id } } }`, { id: connectionId });
    expect(after.data!['crmConnection'].deadLetters).toEqual([]);
  });

  it('keeps one tenant away from another’s connection, runs and synced leads', async () => {
    const other = createTestCaller();
    const stolen = await subgraph.call(other, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId });
    expect(stolen.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const replay = await subgraph.call(other, `mutation ($id: ID!) { retryCrmDeadLetters(connectionId: $id) }`, { id: connectionId });
    expect(replay.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect(await leadByEmail(other, 'person1@acme1.example.com')).toBeNull();
  });
});

describe('when HubSpot stops answering as it should', () => {
  it('pauses at the daily cap until it resets, with a run queued to resume', async () => {
    const fake = await startFakeHubSpot();
    try {
      const caller = createTestCaller();
      fake.seedContacts(300);
      const connectionId = await connect(caller, fake);
      fake.dailyRemaining = 2;
      const run = await sync(caller, connectionId, { direction: 'IMPORT' });
      expect(run.status).toBe('SUCCEEDED');
      expect(run.message).toMatch(/^Paused until .*HubSpot's daily API limit is spent/);
      expect(new Date(run.pausedUntil!).getTime()).toBeGreaterThan(Date.now());
      const connection = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { status pausedUntil syncRuns(first: 5) { status trigger } } }`, { id: connectionId });
      expect(connection.data!['crmConnection']).toMatchObject({ status: 'PAUSED', pausedUntil: run.pausedUntil });
      expect(connection.data!['crmConnection'].syncRuns[0]).toEqual({ status: 'QUEUED', trigger: 'resume' });
    } finally {
      await fake.close();
    }
  });

  it('fails the run and marks the connection when the token is revoked mid-sync', async () => {
    const fake = await startFakeHubSpot();
    try {
      const caller = createTestCaller();
      fake.seedContacts(50);
      const connectionId = await connect(caller, fake);
      fake.revokeAccess();
      const run = await sync(caller, connectionId);
      expect(run.status).toBe('FAILED');
      expect(run.message).toContain('HubSpot refused the credentials mid-sync');
      const connection = await subgraph.call(caller, `query ($id: ID!) { crmConnection(id: $id) { status statusMessage } }`, { id: connectionId });
      expect(connection.data!['crmConnection']).toMatchObject({ status: 'ERROR', statusMessage: expect.stringContaining('Authentication credentials not found') });
      const again = await subgraph.call(caller, `mutation ($id: ID!) { syncCrm(connectionId: $id) { id } }`, { id: connectionId });
      expect(again.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    } finally {
      await fake.close();
    }
  });
});
