// Lead imports against the real PostgreSQL and Redis, with the three real files of
// fixtures/leads: what each row came to, what a second import changes (nothing), the events the
// leads publish, the export, another tenant's view, and every sort of bad file.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { callerTokenHeader, type CallerContext } from '@gtm/caller';
import { openCsv } from '@gtm/csv';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { leadImportSweepTask, sweepEndedImportStaging } from './lead-import.service.js';
import { importFields, importFile, leadFixture, uploadToService, waitForImport } from './lead-import.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;
const probe = 'lead_import_probe';

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig({ ...environment, PUBLIC_URL: 'https://gtm.example.com' }), { onQuery }));
  await subgraph.app.database.orm.em
    .fork()
    .execute(`insert into gtm_events.subscription (subscriber, event_name, event_version) values (?, 'lead.created', 1), (?, 'lead.imported', 1), (?, 'lead.updated', 1), (?, 'lead.custom_fields_changed', 1)`, [
      probe,
      probe,
      probe,
      probe,
    ]);
});

afterAll(() => subgraph?.close());

/** Lead events delivered for a tenant, by name, once the relay has caught up with `expected` of them. */
async function deliveredEvents(tenantId: string, expected: number): Promise<Record<string, number>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await subgraph.app.database.orm.em
      .fork()
      .execute<Array<{ event_name: string; count: string }>>(`select event_name, count(*) from gtm_events.delivery where subscriber = ? and tenant_id = ? group by event_name`, [probe, tenantId]);
    const counts = Object.fromEntries(rows.map((row) => [row.event_name, Number(row.count)]));
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    if (total >= expected || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function gql(who: CallerContext, query: string, variables?: Record<string, unknown>) {
  return subgraph.call(who, query, variables);
}

async function startImport(who: CallerContext, input: Record<string, unknown> = {}) {
  const started = await gql(who, `mutation ($input: ImportLeadsInput!) { importLeads(input: $input) { id uploadUrl status } }`, { input: { fileName: 'leads.csv', ...input } });
  expect(started.errors).toBeUndefined();
  return started.data!['importLeads'] as { id: string; uploadUrl: string; status: string };
}

async function download(who: CallerContext, listId: string): Promise<{ header: string[]; rows: string[][]; text: string }> {
  const result = await gql(who, `query ($id: ID!) { leadList(id: $id) { downloadUrl } }`, { id: listId });
  const ticket = (result.data!['leadList'].downloadUrl as string).split('/').at(-1)!;
  const response = await fetch(`${new URL(subgraph.app.url).origin}/files/${ticket}`, { headers: { [callerTokenHeader]: await subgraph.signCaller(who) } });
  expect(response.status).toBe(200);
  const text = await response.text();
  const csv = await openCsv(Readable.from([Buffer.from(text)]));
  const rows: string[][] = [];
  for await (const row of csv.rows()) rows.push(row.values);
  return { header: csv.columns.map((column) => column.header), rows, text };
}

const mappingOf = (result: Record<string, any>) => Object.fromEntries((result['columnMapping'] as Array<{ column: string; field: string | null }>).map((entry) => [entry.column, entry.field]));

describe('the Florida dealer register (10,246 rows)', () => {
  const who = createTestCaller();
  let first: Record<string, any>;

  beforeAll(async () => {
    first = await importFile(subgraph, who, await leadFixture('florida-dealers-10k.csv'), { fileName: 'florida-dealers-10k.csv' });
  });

  it('detects the mapping from the headers and values alone', () => {
    expect(first['status']).toBe('SUCCEEDED');
    expect(mappingOf(first)).toMatchObject({
      'DEALER NAME': 'companyName',
      'Dealer Website URL': 'website',
      EMAIL: 'companyEmail',
      PHONE: 'companyPhone',
      'Owner First Name': 'firstName',
      'Owner Last Name': 'lastName',
      'Owner Email': 'email',
      'LOCATION CITY': 'city',
      STATE: 'state',
      'LIC NUMBER': null,
      'PERSONALIZED EMAIL SUBJECT LINE': null,
    });
  });

  it('accounts for every row: new leads, merged duplicates (the register lists dealers more than once) and rejected rows with their reasons', () => {
    expect(first).toMatchObject({ total: 10_246, imported: 9_663, merged: 566, rejected: 17, leadsUpdated: 0, uploadUrl: null });
    expect(first['imported'] + first['merged'] + first['rejected']).toBe(first['total']);
    expect(first['errors']).toHaveLength(17);
    expect(first['errors'][0]).toEqual({ row: 945, column: 'EMAIL', message: '"david@rafinance" is not an email address.' });
    expect(first['list']).toMatchObject({ name: 'florida-dealers-10k.csv', leadCount: 9_663 });
  });

  it('publishes lead.imported for every new lead', async () => {
    expect(await deliveredEvents(who.tenantId, 9_663)).toEqual({ 'lead.imported': 9_663 });
    // One event per lead, in the lead's own stream, naming the import.
    const [covered] = await subgraph.app.database.orm.em.fork().execute<Array<{ events: number; leads: number; unknown: number; other_streams: number; imports: number }>>(
      `with delivered as (select * from gtm_events.delivery where subscriber = ? and tenant_id = ? and event_name = 'lead.imported'),
         tenant_lead as (select id::text as id from crm.lead where tenant_id = ?)
       select (select count(distinct entity_id) from delivered)::int as events, (select count(*) from tenant_lead)::int as leads,
         (select count(*) from (select entity_id from delivered except select id from tenant_lead) unknown)::int as unknown,
         (select count(*) from delivered where stream <> 'Lead:' || entity_id)::int as other_streams, (select count(distinct data->>'importId') from delivered)::int as imports`,
      [probe, who.tenantId, who.tenantId],
    );
    expect(covered).toEqual({ events: 9_663, leads: 9_663, unknown: 0, other_streams: 0, imports: 1 });
  });

  it('normalises what it keeps: lower-case emails, E.164 phones, domains, clean case, custom fields', async () => {
    const rows = await subgraph.app.database.orm.em
      .fork()
      .execute<Array<Record<string, any>>>(
        `select lead.email, lead.phone, lead.source, lead.custom_fields, company.name, company.domain, company.city from crm.lead lead left join crm.company company on company.id = lead.company_id
          where lead.tenant_id = ? and lead.email = 'jdsrv@att.net'`,
        [who.tenantId],
      );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: 'jdsrv@att.net', phone: '+13864623039', source: 'csv-import', name: 'J D Sanders Inc', city: 'Alachua' });
    const custom = typeof rows[0]!['custom_fields'] === 'string' ? JSON.parse(rows[0]!['custom_fields']) : rows[0]!['custom_fields'];
    expect(custom).toMatchObject({ COUNTY: 'ALACHUA', 'LIC NUMBER': '1004483-1', 'LOCATION ADDRESS': '12380 NW HWY 441', 'LOC ZIP': '32615' });
  });

  it('merges everything on a second import of the same file and changes nothing', async () => {
    const second = await importFile(subgraph, who, await leadFixture('florida-dealers-10k.csv'), { fileName: 'again.csv' });
    expect(second).toMatchObject({ status: 'SUCCEEDED', total: 10_246, imported: 0, merged: 10_229, rejected: 17, leadsUpdated: 0 });
    expect(second['message']).toMatch(/no existing lead changed/);
    expect(second['list'].leadCount).toBe(9_663);
    // No lead.updated: nothing changed.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await deliveredEvents(who.tenantId, 9_663)).toEqual({ 'lead.imported': 9_663 });
  });

  it('exports the list: the original columns, then the normalised fields, one row per lead, formula-escaped', async () => {
    const { header, rows } = await download(who, first['list'].id);
    expect(header.slice(0, 18)).toEqual(first['columnMapping'].map((entry: { column: string }) => entry.column));
    expect(header.slice(18)).toEqual(['Lead ID', 'First name', 'Last name', 'Email', 'Phone', 'Title', 'Company', 'Company domain', 'Status']);
    expect(rows).toHaveLength(9_663);
    expect(rows[0]!.slice(0, 3)).toEqual(['ALACHUA', 'BROADWAY AUTO BROKERS INC', '12559 NW US HIGHWAY 441']);
    expect(rows[0]![21]).toBe('broadway6st@gmail.com');
  });

  it('pages the list by cursor', async () => {
    const query = `query ($id: ID!, $after: String) { leadList(id: $id) { leads(first: 100, after: $after) { edges { node { id email } } pageInfo { hasNextPage endCursor } } } }`;
    const seen = new Set<string>();
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = await gql(who, query, { id: first['list'].id, after });
      const leads = page.data!['leadList'].leads;
      for (const edge of leads.edges) seen.add(edge.node.id);
      pages += 1;
      if (!leads.pageInfo.hasNextPage || pages > 10) break;
      after = leads.pageInfo.endCursor;
    }
    expect(pages).toBe(11);
    expect(seen.size).toBe(1_100);
  });

  it('keeps another tenant out: its import, its list, its leads through a federation reference', async () => {
    const other = createTestCaller();
    const seen = await gql(other, `query ($import: ID!, $list: ID!) { leadImport(id: $import) { id } leadList(id: $list) { id } leadLists(first: 10) { edges { node { id } } } }`, {
      import: first['id'],
      list: first['list'].id,
    });
    expect(seen.data).toEqual({ leadImport: null, leadList: null, leadLists: { edges: [] } });
    const entities = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on LeadList { id name leads(first: 2) { edges { node { id email } } pageInfo { hasNextPage endCursor } } } } }`;
    const representations = [{ __typename: 'LeadList', id: first['list'].id }, { __typename: 'LeadList', id: '00000000-0000-4000-8000-000000000000' }];
    expect((await gql(other, entities, { representations })).data!['_entities']).toEqual([null, null]);
    const own = (await gql(who, entities, { representations })).data!['_entities'];
    expect(own[0].leads.edges).toHaveLength(2);
    expect(own[0].leads.pageInfo.hasNextPage).toBe(true);
    expect(own[1]).toBeNull();
    // The same file in another tenant makes that tenant's own leads.
    const theirs = await importFile(subgraph, other, await leadFixture('florida-dealers-10k.csv'));
    expect(theirs).toMatchObject({ imported: 9_663, merged: 566, rejected: 17 });
  });
});

describe('the contractors file (8,277 rows, 70 columns)', () => {
  it('maps the columns it knows, keeps the rest on each lead, and refuses the rows it cannot read', async () => {
    const who = createTestCaller();
    const result = await importFile(subgraph, who, await leadFixture('contractors-8k.csv'));
    expect(mappingOf(result)).toMatchObject({ name: 'companyName', phone: 'phone', domain: 'domain', website: 'website', employee_count: 'employeeCount', ICP_Score: null, OEMs_Certified: null });
    expect(result).toMatchObject({ status: 'SUCCEEDED', total: 8_277, imported: 7_422, merged: 847, rejected: 8, leadsUpdated: 0 });
    expect(result['errors']).toContainEqual({ row: 3055, column: 'website', message: '"http://n/A" is not a website address.' });
    expect(result['errors']).toContainEqual({ row: 6025, column: 'phone', message: '"(20) 600-7121" is not a phone number in US.' });
    const [lead] = await subgraph.app.database.orm.em
      .fork()
      .execute<Array<{ custom_fields: any }>>(`select lead.custom_fields from crm.lead lead join crm.company company on company.id = lead.company_id where lead.tenant_id = ? and company.domain = 'aagenpro.com'`, [who.tenantId]);
    const custom = typeof lead!.custom_fields === 'string' ? JSON.parse(lead!.custom_fields) : lead!.custom_fields;
    expect(custom).toMatchObject({ ICP_Score: '72.8', ICP_Tier: 'GOLD', OEMs_Certified: 'Briggs & Stratton, Cummins, Generac' });
    const again = await importFile(subgraph, who, await leadFixture('contractors-8k.csv'));
    expect(again).toMatchObject({ imported: 0, merged: 8_269, rejected: 8, leadsUpdated: 0 });
  });
});

describe('the trade-show companies (200 rows)', () => {
  it('imports them and matches the same companies when the dealer register names them too', async () => {
    const who = createTestCaller();
    const result = await importFile(subgraph, who, await leadFixture('companies-200.csv'));
    expect(mappingOf(result)).toMatchObject({ company_name: 'companyName', company_website: 'website', contact_name: 'fullName', contact_email: 'email', contact_phone: 'phone', notes: 'notes' });
    expect(result).toMatchObject({ status: 'SUCCEEDED', total: 200, imported: 197, merged: 3, rejected: 0 });
    const again = await importFile(subgraph, who, await leadFixture('companies-200.csv'));
    expect(again).toMatchObject({ imported: 0, merged: 200, leadsUpdated: 0 });
  });
});

describe('merging into existing leads', () => {
  const file = 'Email,First Name,Last Name,Title,Company,Website,Phone,Country,Source note\nada@example.com,Ada,Lovelace,Countess,Analytical Engines,https://www.analytical.example,+44 20 7946 0000,UK,met at the fair\n';

  it('fills empty fields, never overwrites a set one, unless the import says OVERWRITE; each change publishes lead.updated', async () => {
    const who = createTestCaller();
    const created = await gql(who, `mutation { createLead(input: { email: "ADA@example.com", firstName: "Augusta", title: null }) { id } }`);
    const leadId = created.data!['createLead'].id;
    const filled = await importFile(subgraph, who, file);
    expect(filled).toMatchObject({ imported: 0, merged: 1, leadsUpdated: 1 });
    const lead = async () => (await gql(who, `query ($id: ID!) { lead(id: $id) { firstName lastName title phone company { name domain } } }`, { id: leadId })).data!['lead'];
    expect(await lead()).toEqual({ firstName: 'Augusta', lastName: 'Lovelace', title: 'Countess', phone: '+442079460000', company: { name: 'Analytical Engines', domain: 'analytical.example' } });
    const overwritten = await importFile(subgraph, who, file, { dedupe: 'OVERWRITE' });
    expect(overwritten).toMatchObject({ imported: 0, merged: 1, leadsUpdated: 1 });
    expect((await lead()).firstName).toBe('Ada');
    const unchanged = await importFile(subgraph, who, file, { dedupe: 'OVERWRITE' });
    expect(unchanged).toMatchObject({ merged: 1, leadsUpdated: 0 });
    // The first import also gave the lead its "Source note" column, the only custom-field change.
    expect(await deliveredEvents(who.tenantId, 4)).toEqual({ 'lead.created': 1, 'lead.updated': 2, 'lead.custom_fields_changed': 1 });
  });

  it('publishes lead.custom_fields_changed, and no lead.updated, when an import changes only custom fields', async () => {
    const who = createTestCaller();
    const first = await importFile(subgraph, who, 'Email,Booth\nbea@fair.example,A-1\n');
    expect(first).toMatchObject({ imported: 1 });
    const booth = await importFile(subgraph, who, 'Email,Booth,Interest\nbea@fair.example,B-2,pumps\n', { dedupe: 'OVERWRITE' });
    expect(booth).toMatchObject({ imported: 0, merged: 1, leadsUpdated: 1 });
    const leads = await gql(who, `{ leads(first: 5) { edges { node { email customFields { name value } } } } }`);
    expect(leads.errors).toBeUndefined();
    const node = leads.data!['leads'].edges[0].node;
    expect(node.email).toBe('bea@fair.example');
    expect(node.customFields.toSorted((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name))).toEqual([
      { name: 'Booth', value: 'B-2' },
      { name: 'Interest', value: 'pumps' },
    ]);
    expect(await deliveredEvents(who.tenantId, 2)).toEqual({ 'lead.imported': 1, 'lead.custom_fields_changed': 1 });
    const [event] = await subgraph.app.database.orm.em
      .fork()
      .execute<Array<{ data: any }>>(`select data from gtm_events.delivery where subscriber = ? and tenant_id = ? and event_name = 'lead.custom_fields_changed'`, [probe, who.tenantId]);
    const data = typeof event!.data === 'string' ? JSON.parse(event!.data) : event!.data;
    expect(data).toEqual({ customFields: { Booth: 'B-2', Interest: 'pumps' }, changed: ['Booth', 'Interest'] });
    // The same file again changes nothing and publishes nothing.
    const again = await importFile(subgraph, who, 'Email,Booth,Interest\nbea@fair.example,B-2,pumps\n', { dedupe: 'OVERWRITE' });
    expect(again).toMatchObject({ merged: 1, leadsUpdated: 0 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await deliveredEvents(who.tenantId, 2)).toEqual({ 'lead.imported': 1, 'lead.custom_fields_changed': 1 });
  });

  it('finds the same person by company and name when a row has no email, and by phone when it has neither', async () => {
    const who = createTestCaller();
    const rows = [
      'Company,Website,First Name,Last Name,Email,Phone,State',
      'Acme Inc.,acme.example,Wile,Coyote,wile@acme.example,,',
      'ACME,,WILE,COYOTE,,,',
      'Acme,acme.example,Road,Runner,,(305) 555-0100,FL',
      ',,,,,305.555.0100,FL',
      'Other Co,,,,,,',
    ].join('\n');
    const result = await importFile(subgraph, who, rows);
    expect(result).toMatchObject({ total: 5, imported: 3, merged: 2, rejected: 0 });
    const again = await importFile(subgraph, who, rows);
    expect(again).toMatchObject({ imported: 0, merged: 5, leadsUpdated: 0 });
  });

  it('gives a lead named by several rows each custom field from the first row that has it', async () => {
    const who = createTestCaller();
    const result = await importFile(subgraph, who, 'Email,Booth,Badge,Interest\nrep@fair.example,,B-1,pumps\nREP@fair.example,A-7,B-2,\nother@fair.example,C-3,,\n');
    expect(result).toMatchObject({ imported: 2, merged: 1 });
    const rows = await subgraph.app.database.orm.em.fork().execute<Array<{ email: string; custom_fields: any }>>(`select email, custom_fields from crm.lead where tenant_id = ? order by email`, [who.tenantId]);
    expect(rows.map((row) => [row.email, typeof row.custom_fields === 'string' ? JSON.parse(row.custom_fields) : row.custom_fields])).toEqual([
      ['other@fair.example', { Booth: 'C-3' }],
      ['rep@fair.example', { Booth: 'A-7', Badge: 'B-1', Interest: 'pumps' }],
    ]);
  });

  it('takes the mapping the import states over the detected one', async () => {
    const who = createTestCaller();
    const result = await importFile(subgraph, who, 'Org,Contact,Reach\nBlue Corp,Jane Doe,jane@blue.example\n', {
      columnMapping: [
        { column: 'org', field: 'companyName' },
        { column: 'Contact', field: 'fullName' },
        { column: 'Reach', field: 'email' },
      ],
    });
    expect(result).toMatchObject({ imported: 1, rejected: 0 });
    expect(result['columnMapping']).toEqual([
      { column: 'Org', field: 'companyName', confidence: 1 },
      { column: 'Contact', field: 'fullName', confidence: 1 },
      { column: 'Reach', field: 'email', confidence: 1 },
    ]);
    const refused = await gql(who, `mutation { importLeads(input: { fileName: "x.csv", columnMapping: [{ column: "a", field: "shoeSize" }] }) { id } }`);
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('bad files', () => {
  const who = createTestCaller();

  async function refusal(body: Buffer | string): Promise<{ status: number; body: any; importId: string; uploadUrl: string }> {
    const started = await startImport(who);
    const response = await uploadToService(subgraph, who, started.uploadUrl, body);
    return { status: response.status, body: await response.json(), importId: started.id, uploadUrl: started.uploadUrl };
  }

  it.each([
    ['an empty file', '', 'CSV_EMPTY'],
    ['a header without rows', 'email,name\n', 'CSV_NO_ROWS'],
    ['a binary file', Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(2_000, 1)]), 'CSV_BINARY'],
    ['a quote that never closes', 'email,name\nada@example.com,"Ada\nbob@example.com,Bob\n', 'CSV_UNCLOSED_QUOTE'],
    ['10,000 columns', `${Array.from({ length: 10_000 }, (_unused, index) => `c${index}`).join(',')}\n1\n`, 'CSV_TOO_MANY_COLUMNS'],
  ])('refuses %s with a coded error, keeps nothing, and the link works again', async (_name, body, csvCode) => {
    const refused = await refusal(body);
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', csvCode });
    const state = await gql(who, `query ($id: ID!) { leadImport(id: $id) { status total uploadUrl } }`, { id: refused.importId });
    expect(state.data!['leadImport']).toMatchObject({ status: 'QUEUED', total: 0 });
    const tables = await subgraph.app.database.orm.em.fork().execute(`select 1 from pg_tables where tablename = ?`, [`lead_import_rows_${refused.importId.replaceAll('-', '')}`]);
    expect(tables).toHaveLength(0);
    const retried = await uploadToService(subgraph, who, refused.uploadUrl, 'email\nfixed@example.com\n');
    expect(retried.status).toBe(200);
    expect(await waitForImport(subgraph, who, refused.importId)).toMatchObject({ status: 'SUCCEEDED', total: 1 });
  });

  it('keeps nothing of a file whose client disconnects half-way, and takes the whole file again on the same link', async () => {
    const started = await startImport(who);
    const ticket = started.uploadUrl.split('/').at(-1)!;
    const { request } = await import('node:http');
    const origin = new URL(subgraph.app.url);
    const upload = request({ host: origin.hostname, port: origin.port, path: `/files/${ticket}`, method: 'PUT', headers: { [callerTokenHeader]: await subgraph.signCaller(who), 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } });
    upload.on('error', () => {});
    upload.write('Email,Company\n');
    for (let index = 0; index < 2_000; index += 1) upload.write(`half${index}@example.com,Half ${index}\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    upload.destroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const state = await gql(who, `query ($id: ID!) { leadImport(id: $id) { status total } }`, { id: started.id });
    expect(state.data!['leadImport']).toEqual({ status: 'QUEUED', total: 0 });
    const [leads] = await subgraph.app.database.orm.em.fork().execute<Array<{ count: string }>>(`select count(*) from crm.lead where tenant_id = ? and email like 'half%'`, [who.tenantId]);
    expect(Number(leads!.count)).toBe(0);
    const whole = await uploadToService(subgraph, who, started.uploadUrl, 'Email,Company\nwhole@example.com,Whole\n');
    expect(whole.status).toBe(200);
    expect(await waitForImport(subgraph, who, started.id)).toMatchObject({ status: 'SUCCEEDED', total: 1, imported: 1 });
  });

  it('rejects ragged rows and a 1 MB cell as row errors and imports the rest; duplicate column names and repeated headers are read', async () => {
    const file = [
      'Email,Name,Name,Notes',
      'one@example.com,One,Uno,',
      'two@example.com,Two,Dos,x,extra,cells',
      `three@example.com,Three,Tres,${'z'.repeat(1_048_576)}`,
      'Email,Name,Name,Notes',
      'four@example.com,Four',
      'no identity at all,,,',
    ].join('\n');
    const result = await importFile(subgraph, who, file);
    expect(result).toMatchObject({ status: 'SUCCEEDED', total: 5, imported: 2, rejected: 3 });
    expect(result['errors'].map((error: { row: number }) => error.row)).toEqual([2, 3, 5]);
    expect(result['errors'][2]).toMatchObject({ column: 'Email', message: '"no" is not an email address.' });
  });

  it('fails an import none of whose rows is usable, with each row’s reason', async () => {
    const result = await importFile(subgraph, who, 'Name,Email\nAda,not-an-email\nBob,\n');
    expect(result).toMatchObject({ status: 'FAILED', total: 2, imported: 0, merged: 0, rejected: 2, list: null });
    expect(result['message']).toMatch(/No row of the file is usable/);
    expect(result['errors']).toEqual([
      { row: 1, column: 'Email', message: '"not-an-email" is not an email address.' },
      { row: 2, column: null, message: 'The row has no email, company, website or phone to know the lead by.' },
    ]);
  });

  it('refuses a file for a cancelled import, and a second file for one that has its file', async () => {
    const cancelled = await startImport(who);
    const cancel = await gql(who, `mutation ($id: ID!) { cancelLeadImport(id: $id) { status uploadUrl } }`, { id: cancelled.id });
    expect(cancel.data!['cancelLeadImport']).toEqual({ status: 'CANCELLED', uploadUrl: null });
    const late = await uploadToService(subgraph, who, cancelled.uploadUrl, 'email\na@example.com\n');
    expect(late.status).toBe(409);
    const done = await startImport(who);
    expect((await uploadToService(subgraph, who, done.uploadUrl, 'email\nb@example.com\n')).status).toBe(200);
    expect((await uploadToService(subgraph, who, done.uploadUrl, 'email\nc@example.com\n')).status).toBe(409);
    const result = await gql(who, `query ($id: ID!) { leadImport(id: $id) { ${importFields} } }`, { id: done.id });
    expect(result.data!['leadImport'].uploadUrl).toBeNull();
  });
});

const em = () => subgraph.app.database.orm.em.fork();
const stagingOf = async (id: string) =>
  (await em().execute<Array<{ staging_table: string | null }>>(`select staging_table from crm.lead_import where id = ?`, [id]))[0]!.staging_table;
const tableExists = async (name: string) => (await em().execute(`select 1 from pg_tables where schemaname = 'crm' and tablename = ?`, [name])).length > 0;

describe('staged rows of an import that ended', () => {
  const who = createTestCaller();

  it('outlive a cancellation that lands mid-merge only until the sweep, which drops them and leaves running imports alone', async () => {
    // Holds the tables the merge writes, so the merge is caught half-way with the staged rows open.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = em().transactional(async (transaction) => {
      await transaction.execute('lock table crm.lead, crm.company in share mode');
      locked();
      await released;
    });
    await lockTaken;
    const started = await startImport(who);
    expect((await uploadToService(subgraph, who, started.uploadUrl, 'email,name\nheld@example.com,Held One\n')).status).toBe(200);
    const stagingTable = `lead_import_rows_${started.id.replaceAll('-', '')}`;
    for (let waited = 0; ; waited += 50) {
      // This import's merge (the backend holding its staged rows), not another import's, is the one waiting.
      const [waiting] = await em().execute<Array<{ count: string }>>(
        `select count(*) from pg_locks staged join pg_locks held_up on held_up.pid = staged.pid
          where staged.relation = to_regclass(?) and staged.granted and not held_up.granted and held_up.relation in ('crm.lead'::regclass, 'crm.company'::regclass)`,
        [`crm.${stagingTable}`],
      );
      if (Number(waiting!.count) > 0) break;
      if (waited > 30_000) throw new Error('the merge never reached the held tables');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // A failed expectation below must not leave the tables held for the tests after this one.
    const failsafe = setTimeout(() => release(), 50_000);
    const cancelled = await gql(who, `mutation ($id: ID!) { cancelLeadImport(id: $id) { status } }`, { id: started.id });
    expect(cancelled.data!['cancelLeadImport']).toEqual({ status: 'CANCELLED' });
    // The merge still held its staged rows, so the cancellation could not drop them; while it does, the sweep cannot either.
    expect(await tableExists(stagingTable)).toBe(true);
    expect(await sweepEndedImportStaging(subgraph.app.database, subgraph.app.logger)).toEqual({ dropped: 0, busy: 1 });

    release();
    clearTimeout(failsafe);
    await holder;
    for (let waited = 0; (await em().execute(`select 1 from pg_locks where relation = to_regclass(?)`, [`crm.${stagingTable}`])).length > 0; waited += 50) {
      if (waited > 30_000) throw new Error('the merge never let go of its staged rows');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await stagingOf(started.id)).toBe(stagingTable);
    expect(await tableExists(stagingTable)).toBe(true);

    const running = await startImport(who);
    await em().execute(`create unlogged table crm.lead_import_rows_${running.id.replaceAll('-', '')} (row_number integer)`);
    await em().execute(`update crm.lead_import set staging_table = ? where id = ?`, [`lead_import_rows_${running.id.replaceAll('-', '')}`, running.id]);

    expect(await sweepEndedImportStaging(subgraph.app.database, subgraph.app.logger)).toEqual({ dropped: 1, busy: 0 });
    expect(await tableExists(stagingTable)).toBe(false);
    expect(await stagingOf(started.id)).toBeNull();
    expect(await tableExists(`lead_import_rows_${running.id.replaceAll('-', '')}`)).toBe(true);
    const [leads] = await em().execute<Array<{ count: string }>>(`select count(*) from crm.lead where tenant_id = ?`, [who.tenantId]);
    expect(Number(leads!.count)).toBe(0);
    expect((await gql(who, `query ($id: ID!) { leadImport(id: $id) { status imported } }`, { id: started.id })).data!['leadImport']).toEqual({ status: 'CANCELLED', imported: 0 });
  });

  it('are swept on a schedule by every crm worker', async () => {
    const known = await em().execute<Array<{ identifier: string }>>(`select identifier from gtm_worker._private_known_crontabs where identifier = ?`, [leadImportSweepTask]);
    expect(known).toHaveLength(1);
  });
});

describe('lists made by hand', () => {
  it('creates a list, adds leads of its own tenant only, and pages them in the order added', async () => {
    const who = createTestCaller();
    const list = (await gql(who, `mutation { createLeadList(name: "Call back") { id name } }`)).data!['createLeadList'];
    const ids: string[] = [];
    for (const email of ['x1@example.com', 'x2@example.com', 'x3@example.com']) ids.push((await gql(who, `mutation ($email: String) { createLead(input: { email: $email }) { id } }`, { email })).data!['createLead'].id);
    const added = await gql(who, `mutation ($list: ID!, $leads: [ID!]!) { addLeadsToList(listId: $list, leadIds: $leads) { leadCount } }`, { list: list.id, leads: [ids[2], ids[0], ids[2]] });
    expect(added.errors).toBeUndefined();
    expect(added.data!['addLeadsToList'].leadCount).toBe(2);
    await gql(who, `mutation ($list: ID!, $leads: [ID!]!) { addLeadsToList(listId: $list, leadIds: $leads) { leadCount } }`, { list: list.id, leads: [ids[1], ids[0]] });
    const page = await gql(who, `query ($id: ID!) { leadList(id: $id) { leadCount leads(first: 10) { edges { node { email } } } } }`, { id: list.id });
    expect(page.data!['leadList'].leads.edges.map((edge: any) => edge.node.email)).toEqual(['x3@example.com', 'x1@example.com', 'x2@example.com']);
    const other = createTestCaller();
    const foreign = await gql(other, `mutation ($list: ID!, $leads: [ID!]!) { addLeadsToList(listId: $list, leadIds: $leads) { id } }`, { list: list.id, leads: [ids[0]] });
    expect(foreign.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const otherList = (await gql(other, `mutation { createLeadList(name: "Mine") { id } }`)).data!['createLeadList'];
    const stolen = await gql(other, `mutation ($list: ID!, $leads: [ID!]!) { addLeadsToList(listId: $list, leadIds: $leads) { id } }`, { list: otherList.id, leads: [ids[0]] });
    expect(stolen.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const exported = await download(who, list.id);
    expect(exported.rows.map((row) => row[3])).toEqual(['x3@example.com', 'x1@example.com', 'x2@example.com']);
  });

  it('drops a deleted lead from every list it was in, imported or made by hand', async () => {
    const who = createTestCaller();
    const result = await importFile(subgraph, who, 'Email,First Name\nkeep@example.com,Kim\ngone@example.com,Gus\n');
    const imported = result['list'].id as string;
    const leads = (await gql(who, `query ($id: ID!) { leadList(id: $id) { leads(first: 10) { edges { node { id email } } } } }`, { id: imported })).data!['leadList'].leads.edges.map((edge: any) => edge.node);
    const gone = leads.find((lead: any) => lead.email === 'gone@example.com').id;
    const byHand = (await gql(who, `mutation { createLeadList(name: "Both") { id } }`)).data!['createLeadList'].id;
    await gql(who, `mutation ($list: ID!, $leads: [ID!]!) { addLeadsToList(listId: $list, leadIds: $leads) { id } }`, { list: byHand, leads: leads.map((lead: any) => lead.id) });
    expect((await gql(who, `mutation ($id: ID!) { deleteLead(id: $id) }`, { id: gone })).errors).toBeUndefined();
    for (const listId of [imported, byHand]) {
      const page = await gql(who, `query ($id: ID!) { leadList(id: $id) { leadCount leads(first: 10) { edges { node { email } } } } }`, { id: listId });
      expect(page.data!['leadList']).toEqual({ leadCount: 1, leads: { edges: [{ node: { email: 'keep@example.com' } }] } });
      expect((await download(who, listId)).rows.map((row) => row.at(-6))).toEqual(['keep@example.com']);
    }
    const [members] = await subgraph.app.database.orm.em.fork().execute<Array<{ count: number }>>(`select count(*)::int as count from crm.lead_list_member where lead_id = ?`, [gone]);
    expect(members!.count).toBe(0);
  });

  it('escapes formulas in the export', async () => {
    const who = createTestCaller();
    const result = await importFile(subgraph, who, 'Email,Notes,Score\nevil@example.com,"=HYPERLINK(""http://x"")",+1\n');
    const { text } = await download(who, result['list'].id);
    expect(text).toContain(`'=HYPERLINK`);
    expect(text).toContain(`'+1`);
  });
});
