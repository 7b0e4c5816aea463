// One lead per mailbox: the address key (lead_email_key in SQL, leadEmailKey in TypeScript) that
// leads are matched and kept unique by, against the real PostgreSQL, through the import, createLead,
// a CRM sync and the migration that introduced it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, startFakeHubSpot, startSubgraphUnderTest, type FakeHubSpot, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { importFile } from '../lead-import/lead-import.testing.js';
import { leadEmailKey } from './lead-email-key.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
let hubspot: FakeHubSpot;

beforeAll(async () => {
  hubspot = await startFakeHubSpot();
  subgraph = await startSubgraphUnderTest((environment, onQuery) =>
    createApp(loadConfig({ ...environment, PUBLIC_URL: 'https://gtm.example.com', CRM_FETCH_ALLOWLIST: '127.0.0.1', CRM_SYNC_OVERLAP_SECONDS: '0', CRM_PUSH_ON_LEAD_CHANGE: 'false' }), { onQuery }),
  );
});

afterAll(async () => {
  await subgraph?.close();
  await hubspot?.close();
});

const execute = <Row>(sql: string, values: unknown[] = []) => subgraph.app.database.orm.em.fork().execute<Row[]>(sql, values);
const createLead = `mutation ($input: CreateLeadInput!) { createLead(input: $input) { id email } }`;

async function emailsOf(tenantId: string): Promise<string[]> {
  const rows = await execute<{ email: string }>(`select email from crm.lead where tenant_id = ? order by email`, [tenantId]);
  return rows.map((row) => row.email);
}

describe('the address key', () => {
  it('is the same in TypeScript and in PostgreSQL, and folds only what Gmail folds', async () => {
    const expected: Record<string, string> = {
      'ann.lee@gmail.com': 'annlee@gmail.com',
      'Ann.Lee+Trade-Show@GMAIL.com': 'annlee@gmail.com',
      'a.n.n.l.e.e@googlemail.com': 'annlee@gmail.com',
      'annlee+@gmail.com': 'annlee@gmail.com',
      // Nothing is left of the mailbox: the address stays its own key.
      '+tag@gmail.com': '+tag@gmail.com',
      '...@gmail.com': '...@gmail.com',
      // Other providers and companies' own domains may treat dots and tags as they like.
      'ann.lee@example.com': 'ann.lee@example.com',
      'ann+news@outlook.com': 'ann+news@outlook.com',
      'Ann.Lee@Company.Example': 'ann.lee@company.example',
      'ann.lee@gmail.com.evil.example': 'ann.lee@gmail.com.evil.example',
      'ann@mail.gmail.com': 'ann@mail.gmail.com',
    };
    const addresses = Object.keys(expected);
    const rows = await execute<{ email: string; key: string }>(`select email, crm.lead_email_key(email) as key from jsonb_array_elements_text(?::jsonb) as email`, [JSON.stringify(addresses)]);
    expect(Object.fromEntries(rows.map((row) => [row.email, row.key]))).toEqual(expected);
    expect(Object.fromEntries(addresses.map((address) => [address, leadEmailKey(address)]))).toEqual(expected);
  });
});

describe('an import', () => {
  it('makes one lead of every spelling of a Gmail mailbox, in the file and against the tenant’s leads', async () => {
    const who = createTestCaller();
    const existing = await subgraph.call(who, createLead, { input: { firstName: 'Ann', lastName: 'Lee', email: 'annlee@googlemail.com' } });
    expect(existing.errors).toBeUndefined();

    const file = [
      'Email,First Name,Last Name,Title',
      'Ann.Lee+expo@gmail.com,Ann,Lee,Owner',
      'bo.chan@gmail.com,Bo,Chan,',
      'bochan@gmail.com,,,CFO',
      'dee.ray@example.com,Dee,Ray,',
      'deeray@example.com,Dee,Ray,',
      'eve+news@outlook.com,Eve,,',
      'eve@outlook.com,Eve,,',
    ].join('\n');
    const first = await importFile(subgraph, who, `${file}\n`);
    expect(first).toMatchObject({ status: 'SUCCEEDED', total: 7, rejected: 0, imported: 5, merged: 2, leadsUpdated: 1 });
    // The lead keeps the spelling it was created with; the file's rows filled what it lacked.
    const [ann] = await execute<{ email: string; title: string }>(`select email, title from crm.lead where tenant_id = ? and first_name = 'Ann'`, [who.tenantId]);
    expect(ann).toEqual({ email: 'annlee@googlemail.com', title: 'Owner' });
    const [bo] = await execute<{ email: string; title: string; first_name: string }>(`select email, title, first_name from crm.lead where tenant_id = ? and email like 'bo%'`, [who.tenantId]);
    expect(bo).toEqual({ email: 'bo.chan@gmail.com', title: 'CFO', first_name: 'Bo' });
    expect(await emailsOf(who.tenantId)).toEqual(['annlee@googlemail.com', 'bo.chan@gmail.com', 'dee.ray@example.com', 'deeray@example.com', 'eve+news@outlook.com', 'eve@outlook.com']);

    const again = await importFile(subgraph, who, `${file}\n`);
    expect(again).toMatchObject({ status: 'SUCCEEDED', imported: 0, merged: 7, leadsUpdated: 0 });
  });
});

describe('createLead', () => {
  it('refuses another spelling of a mailbox a lead already has, naming that lead', async () => {
    const who = createTestCaller();
    const created = await subgraph.call(who, createLead, { input: { firstName: 'Cy', email: 'cy.young@gmail.com' } });
    expect(created.errors).toBeUndefined();
    const again = await subgraph.call(who, createLead, { input: { firstName: 'Cy', email: 'CyYoung+crm@googlemail.com' } });
    expect(again.errors?.[0]).toMatchObject({
      message: `A lead with email cyyoung+crm@googlemail.com already exists as cy.young@gmail.com, the same mailbox (id ${created.data!['createLead'].id}); update that one instead.`,
      extensions: { code: 'BAD_USER_INPUT' },
    });
    // Another tenant's lead of that mailbox is no obstacle.
    const elsewhere = await subgraph.call(createTestCaller(), createLead, { input: { firstName: 'Cy', email: 'cyyoung@gmail.com' } });
    expect(elsewhere.errors).toBeUndefined();
  });
});

describe('a CRM sync', () => {
  it('links a contact to the lead it names under another spelling of the mailbox instead of making a second lead', async () => {
    const who = createTestCaller();
    const lead = await subgraph.call(who, createLead, { input: { firstName: 'Gus', lastName: 'Ortiz', email: 'gusortiz@gmail.com' } });
    expect(lead.errors).toBeUndefined();
    hubspot.seedContacts(1, () => ({ email: 'Gus.Ortiz@gmail.com', firstname: 'Gus', lastname: 'Ortiz', jobtitle: 'Owner' }));
    const connected = await subgraph.call(who, `mutation ($input: ConnectCrmInput!) { connectCrm(input: $input) { id } }`, {
      input: { provider: 'HUBSPOT', credentials: { accessToken: hubspot.accessToken, portalId: hubspot.portalId }, baseUrl: hubspot.baseUrl, webhookSecret: hubspot.clientSecret },
    });
    expect(connected.errors).toBeUndefined();
    const started = await subgraph.call(who, `mutation ($id: ID!) { syncCrm(connectionId: $id, direction: IMPORT) { id } }`, { id: connected.data!['connectCrm'].id });
    expect(started.errors).toBeUndefined();
    let run: Record<string, any> | undefined;
    for (let attempt = 0; attempt < 600 && !['SUCCEEDED', 'FAILED'].includes(run?.['status']); attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const runs = await subgraph.call(who, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 5) { id status created updated failed } } }`, { id: connected.data!['connectCrm'].id });
      run = (runs.data!['crmConnection'].syncRuns as Array<Record<string, any>>).find((candidate) => candidate['id'] === started.data!['syncCrm'].id);
    }
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 0, failed: 0 });
    const rows = await execute<{ id: string; title: string | null; links: string }>(
      `select l.id, l.title, (select count(*) from crm.crm_record_link k where k.lead_id = l.id) as links from crm.lead l where l.tenant_id = ?`,
      [who.tenantId],
    );
    expect(rows).toEqual([{ id: lead.data!['createLead'].id, title: 'Owner', links: '1' }]);
  });
});

describe('the migration that made the key', () => {
  it('keeps apart, and keeps, the leads a tenant already had under two spellings of one mailbox', async () => {
    const migrator = subgraph.app.database.orm.migrator;
    await migrator.down({ to: '20261204500000-company-name-key-without-captures' });
    const who = createTestCaller();
    const insert = (email: string, age: string) =>
      execute(`insert into crm.lead (id, tenant_id, email, created_at, updated_at) values (gen_random_uuid(), ?, ?, now() - ?::interval, now())`, [who.tenantId, email, age]);
    await insert('h.ng@gmail.com', '3 days');
    await insert('hng@gmail.com', '2 days');
    await insert('h.ng+x@googlemail.com', '1 day');
    await insert('i.ko@gmail.com', '3 days');
    await insert('ik.o@gmail.com', '2 days');
    await migrator.up();

    const rows = await execute<{ email: string; email_key: string; email_kept_apart: boolean }>(`select email, email_key, email_kept_apart from crm.lead where tenant_id = ? order by email`, [who.tenantId]);
    // The lead spelled as the key takes it, else the oldest; the others keep their own address.
    expect(rows).toEqual([
      { email: 'h.ng+x@googlemail.com', email_key: 'h.ng+x@googlemail.com', email_kept_apart: true },
      { email: 'h.ng@gmail.com', email_key: 'h.ng@gmail.com', email_kept_apart: true },
      { email: 'hng@gmail.com', email_key: 'hng@gmail.com', email_kept_apart: false },
      { email: 'i.ko@gmail.com', email_key: 'iko@gmail.com', email_kept_apart: false },
      { email: 'ik.o@gmail.com', email_key: 'ik.o@gmail.com', email_kept_apart: true },
    ]);
    // From now on a new spelling of either mailbox is the lead that holds its key.
    const again = await subgraph.call(who, createLead, { input: { firstName: 'H', email: 'h.n.g@gmail.com' } });
    expect(again.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('already exists as hng@gmail.com') });
  });
});
