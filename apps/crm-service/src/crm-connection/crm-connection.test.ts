import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { captureLogs, createTestCaller, startFakeHubSpot, startSubgraphUnderTest, type FakeHubSpot, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let hubspot: FakeHubSpot;
const logs = captureLogs();
const tenantA = createTestCaller();
const tenantB = createTestCaller();

beforeAll(async () => {
  hubspot = await startFakeHubSpot();
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, LOG_LEVEL: 'debug', CRM_FETCH_ALLOWLIST: '127.0.0.1', PUBLIC_URL: 'https://gtm.example.com', JOB_WORKER_CONCURRENCY: '0' }), { onQuery, logger: logs.logger }),
  );
});

afterAll(async () => {
  await subgraph?.close();
  await hubspot?.close();
});

const connect = `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) {
  id provider status accountName baseUrl credentialsHint webhookSecretHint webhookUrl fieldMapping { field providerField } } }`;

describe('connecting a CRM', () => {
  it('checks the credentials with HubSpot, stores them sealed and shows only a masked hint', async () => {
    const result = await subgraph.call(tenantA, connect, {
      input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken, portalId: hubspot.portalId }, baseUrl: hubspot.baseUrl, webhookSecret: hubspot.clientSecret, fieldMapping: [{ field: 'PHONE', providerField: 'mobilephone' }] },
    });
    expect(result.errors).toBeUndefined();
    const connection = result.data!['connectCrm'];
    expect(connection).toMatchObject({
      provider: 'HUBSPOT',
      status: 'ACTIVE',
      accountName: `HubSpot portal ${hubspot.portalId}`,
      baseUrl: hubspot.baseUrl,
      credentialsHint: `••••${hubspot.accessToken.slice(-4)}`,
      webhookSecretHint: `••••${hubspot.clientSecret.slice(-4)}`,
      webhookUrl: `https://gtm.example.com/webhooks/crm/${connection.id}`,
    });
    expect(connection.fieldMapping).toContainEqual({ field: 'PHONE', providerField: 'mobilephone' });
    expect(connection.fieldMapping).toContainEqual({ field: 'EMAIL', providerField: 'email' });

    const rows = await subgraph.app.database.orm.em.getConnection().execute(`select * from crm.crm_connection where id = ?`, [connection.id]);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(hubspot.accessToken);
    expect(stored).not.toContain(hubspot.clientSecret);
    expect(rows[0]!.sealed_credentials).toMatch(/^v1\./);
    expect(logs.lines.join('\n')).not.toContain(hubspot.accessToken);
    expect(logs.lines.join('\n')).not.toContain(hubspot.clientSecret);

    const again = await subgraph.call(tenantA, connect, { input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken, portalId: hubspot.portalId }, baseUrl: hubspot.baseUrl } });
    expect(again.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(again.errors?.[0]?.message).toContain(connection.id);
  });

  it('refuses wrong credentials with HubSpot’s own answer, and saves nothing', async () => {
    const caller = createTestCaller();
    const result = await subgraph.call(caller, connect, { input: { provider: 'HUBSPOT', credentials: { accessToken: 'pat-na1-wrong' }, baseUrl: hubspot.baseUrl } });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'credentials' } });
    expect(result.errors?.[0]?.message).toMatch(/^HubSpot refused the credentials: Authentication credentials not found/);
    const shape = await subgraph.call(caller, connect, { input: { provider: 'HUBSPOT', credentials: { token: 'x' }, baseUrl: hubspot.baseUrl } });
    expect(shape.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'credentials' } });
    expect(shape.errors?.[0]?.message).toContain('accessToken');
    expect((await subgraph.call(caller, `{ crmConnections { id } }`)).data!['crmConnections']).toEqual([]);
  });

  it('refuses a mapping to a field HubSpot does not have, listing the real ones', async () => {
    const result = await subgraph.call(createTestCaller(), connect, {
      input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken }, baseUrl: hubspot.baseUrl, fieldMapping: [{ field: 'TITLE', providerField: 'job_title_typo' }] },
    });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'fieldMapping' } });
    expect(result.errors?.[0]?.message).toContain('"job_title_typo"');
    expect(result.errors?.[0]?.message).toContain('jobtitle');
    expect(result.errors?.[0]?.extensions?.['availableFields']).toContain('mobilephone');
  });

  it('refuses a base URL on a private network, and a provider answering with HTML', async () => {
    const metadata = await subgraph.call(createTestCaller(), connect, { input: { provider: 'HUBSPOT', credentials: { accessToken: 'x' }, baseUrl: 'http://169.254.169.254/' } });
    expect(metadata.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'baseUrl' } });
    hubspot.inject({ kind: 'garbage', count: 1 });
    const garbage = await subgraph.call(createTestCaller(), connect, { input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken }, baseUrl: hubspot.baseUrl } });
    expect(garbage.errors?.[0]).toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(garbage.errors?.[0]?.message).toContain('not its API');
  });

  it('keeps each tenant to its own connections, and disconnects', async () => {
    const mine = await subgraph.call(tenantB, connect, { input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken, portalId: '99' }, baseUrl: hubspot.baseUrl } });
    expect(mine.errors).toBeUndefined();
    const theirs = (await subgraph.call(tenantA, `{ crmConnections { id } }`)).data!['crmConnections'] as Array<{ id: string }>;
    expect(theirs).toHaveLength(1);
    const theirId = theirs[0]!.id;
    expect((await subgraph.call(tenantB, `query ($id: ID!) { crmConnection(id: $id) { id } }`, { id: theirId })).data!['crmConnection']).toBeNull();
    const stolen = await subgraph.call(tenantB, `mutation ($id: ID!) { disconnectCrm(id: $id) { id } }`, { id: theirId });
    expect(stolen.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const referenced = await subgraph.call(tenantB, `query ($r: [_Any!]!) { _entities(representations: $r) { ... on CrmConnection { id } } }`, { r: [{ __typename: 'CrmConnection', id: theirId }] });
    expect(referenced.data!['_entities']).toEqual([null]);

    const myId = mine.data!['connectCrm'].id;
    const disconnected = await subgraph.call(tenantB, `mutation ($id: ID!) { disconnectCrm(id: $id) { id status credentialsHint } }`, { id: myId });
    expect(disconnected.data!['disconnectCrm']).toMatchObject({ id: myId, status: 'DISCONNECTED' });
    expect((await subgraph.call(tenantB, `{ crmConnections { id } }`)).data!['crmConnections']).toEqual([]);
    const rows = await subgraph.app.database.orm.em.getConnection().execute(`select sealed_credentials from crm.crm_connection where id = ?`, [myId]);
    expect(rows[0]!.sealed_credentials).toBe('');
  });
});
