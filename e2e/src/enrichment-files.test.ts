// Enrichment's files and lead lists end to end, through the gateway: rows of the real Florida dealer
// register uploaded to an enrichment job's uploadUrl, enriched against locally served sites (a fake
// Serper, content-service, the offline model), and downloaded from its downloadUrl with the original
// columns verbatim and the register's own empty columns filled; files the job must refuse, and a
// file cut off mid-way; and a job over a lead list read from a stand-in for crm-service's LeadList,
// whose results reach the real leads in crm-service through enrichment.record_completed.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { leadSiteFixture, startCompanySites, startFakeSerperServer, type CompanySitesServer, type FakeSearchServer, type LeadSiteFixture } from '@gtm/testing';
import { parse } from 'csv-parse/sync';
import { request } from 'undici';
import { startStack, type Stack } from './stack.js';

const registerText = readFileSync(new URL('../../fixtures/leads/florida-dealers-10k.csv', import.meta.url), 'utf8');
const registerLines = registerText.split('\r\n');
const header = registerLines[0]!;
const headers = (parse(header) as string[][])[0]!;
const dealerLines = registerLines.slice(1, 7);
const dealers = parse(`${header}\r\n${dealerLines.join('\r\n')}`, { columns: true }) as Array<Record<string, string>>;
// A row whose cells a spreadsheet would run as formulas: it must come back as text.
const formulaLine = 'ALACHUA,"=HYPERLINK(""http://evil.example"",""click"")",1 MAIN ST,ALACHUA,FL,32615,(352)000-0000,VI,999,@SUM(A1),,,,,,,,';
const uploadedFile = `${header}\r\n${dealerLines.join('\r\n')}\r\n${formulaLine}\r\n`;

let stack: Stack;
let sites: CompanySitesServer;
let serper: FakeSearchServer;
const fixtures = new Map<string, LeadSiteFixture>();

beforeAll(async () => {
  sites = await startCompanySites();
  for (const row of dealers) {
    const fixture = leadSiteFixture(
      { name: row['DEALER NAME']!, address: row['LOCATION ADDRESS']!, city: row['LOCATION CITY']!, state: row['STATE']!, zip: row['LOC ZIP']!, phone: row['PHONE']!, key: row['LIC NUMBER']! },
      { origin: sites.origin },
    );
    fixtures.set(row['DEALER NAME']!, fixture);
    sites.add(fixture.sites);
  }
  serper = await startFakeSerperServer({ documents: [...fixtures.values()].flatMap((fixture) => fixture.documents), apiKey: 'serper-key' });
  const allowlist = sites.allowlist().join(',');
  stack = await startStack({
    resolveHost: (hostname) => sites.resolveHost(hostname),
    subgraphEnvironment: {
      content: { CONTENT_FETCH_ALLOWLIST: allowlist },
      enrichment: { CONTENT_FETCH_ALLOWLIST: allowlist, SERPER_API_KEY: 'serper-key', SERPER_BASE_URL: serper.url, LLM_PROVIDERS: 'offline' },
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await Promise.all([sites?.close(), serper?.close()]);
});

const authorization = () => ({ authorization: `Bearer ${stack.apiKey}` });

async function createJob(input: Record<string, unknown>) {
  const created = await stack.gql(`mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id status source total recordsRead uploadUrl downloadUrl } }`, { input });
  return created;
}

async function readJob(id: string) {
  const read = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { id status total recordsRead completed failed uploadUrl downloadUrl columnMapping { column field } records(first: 20) { edges { node { position status input website domain failureReason contacts { name title } lead { id } steps { step status note } } } } } }`, { id });
  expect(read.errors).toBeUndefined();
  return read.data!['enrichmentJob'];
}

async function finished(id: string) {
  for (let waited = 0; waited < 120_000; waited += 100) {
    const job = await readJob(id);
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

async function put(url: string, body: Buffer | string | Readable, contentType = 'text/csv') {
  const response = await request(url, { method: 'PUT', headers: { ...authorization(), 'content-type': contentType }, body });
  const text = await response.body.text();
  return { status: response.statusCode, json: text ? JSON.parse(text) : {} };
}

async function download(url: string): Promise<string[][]> {
  const response = await request(url, { headers: { ...authorization(), 'accept-encoding': 'identity' } });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/csv/);
  return parse(await response.body.text(), { bom: true, relax_column_count: false }) as string[][];
}

describe('an uploaded dealer register, enriched and downloaded', () => {
  let jobId: string;
  let downloadUrl: string;

  it('takes the file at the job’s uploadUrl, keeps every column verbatim and runs the job', async () => {
    const created = await createJob({ name: 'florida-dealers.csv', upload: true });
    expect(created.errors).toBeUndefined();
    const job = created.data!['createEnrichmentJob'];
    expect(job).toMatchObject({ status: 'QUEUED', source: 'UPLOAD', total: 0, downloadUrl: null });
    expect(job.uploadUrl).toMatch(/\/files\/enrichment\/f1\./);
    jobId = job.id;

    const uploaded = await put(job.uploadUrl, uploadedFile);
    expect(uploaded.status).toBe(200);
    expect(uploaded.json).toMatchObject({ jobId, rows: 7, rejectedRows: 0, delimiter: ',' });
    expect(uploaded.json.columnMapping).toEqual(expect.arrayContaining([{ column: 'DEALER NAME', field: 'companyName' }, { column: 'Dealer Website URL', field: 'website' }, { column: 'Owner Email', field: 'email' }]));

    const done = await finished(jobId);
    expect(done).toMatchObject({ status: 'SUCCEEDED', total: 7, uploadUrl: null });
    const records = done.records.edges.map((edge: { node: any }) => edge.node);
    expect(records).toHaveLength(7);
    // The row as given: every column under its own header, the empty ones too.
    expect(records[0].input).toEqual(dealers[0]);
    for (const record of records.slice(0, 6)) {
      const fixture = fixtures.get(record.input['DEALER NAME'])!;
      expect(record).toMatchObject({ status: 'ENRICHED', domain: fixture.host });
      expect(record.contacts[0].name).toBe(fixture.owner!.name);
    }
    expect(records[6]).toMatchObject({ status: 'FAILED' });
    expect(records[6].failureReason).toBeTruthy();
    downloadUrl = done.downloadUrl;
    expect(downloadUrl).toMatch(/\/files\/enrichment\/f1\./);
  });

  it('downloads the original columns as given, fills the register’s empty columns and appends the rest, formula-escaped', async () => {
    const [fileHeader, ...rows] = await download(downloadUrl);
    expect(fileHeader).toEqual([
      ...headers,
      'Enriched Domain',
      'Contact 1 Title',
      'Contact 1 LinkedIn',
      ...[2, 3].flatMap((number) => ['Name', 'Title', 'Email', 'Phone', 'LinkedIn'].map((part) => `Contact ${number} ${part}`)),
      'Qualification Score',
      'Qualification Tier',
      'Qualification Reasoning',
      'Enrichment Status',
      'Failure Reason',
      'Enrichment Cost USD',
    ]);
    expect(rows).toHaveLength(7);
    const column = (row: string[], name: string) => row[fileHeader!.indexOf(name)]!;
    const { records } = await readJob(jobId);
    rows.slice(0, 6).forEach((row, index) => {
      const given = dealers[index]!;
      const fixture = fixtures.get(given['DEALER NAME']!)!;
      // Every cell the row gave comes back as it was.
      for (const name of headers) if (given[name]) expect(column(row, name)).toBe(given[name]);
      // The register's own empty columns, filled.
      expect(column(row, 'Dealer Website URL')).toBe(records.edges[index].node.website);
      expect(`${column(row, 'Owner First Name')} ${column(row, 'Owner Last Name')}`).toBe(fixture.owner!.name);
      expect(column(row, 'Owner Email')).toBe(fixture.owner!.email);
      expect(column(row, 'PERSONALIZED EMAIL SUBJECT LINE')).not.toBe('');
      expect(column(row, 'MULTI LINE PERSONALIZED EMAIL START ICE BREAKER')).not.toBe('');
      expect(column(row, 'Dealer Hot Button Topic')).not.toBe('');
      expect(column(row, 'Enriched Domain')).toBe(fixture.host);
      expect(column(row, 'Contact 1 Title')).toBe('Owner');
      expect(column(row, 'Contact 1 LinkedIn')).toBe(fixture.owner!.linkedinUrl);
      // The next two of the site's team, as the record ranks them (general manager, then finance).
      const contacts = records.edges[index].node.contacts;
      expect(contacts.length).toBeGreaterThanOrEqual(3);
      for (const number of [2, 3]) expect([column(row, `Contact ${number} Name`), column(row, `Contact ${number} Title`)]).toEqual([contacts[number - 1].name, contacts[number - 1].title]);
      expect([column(row, 'Contact 2 Title'), column(row, 'Contact 3 Title')]).toEqual(['General Manager', 'Finance Manager']);
      expect(Number(column(row, 'Qualification Score'))).toBeGreaterThanOrEqual(0);
      expect(['A', 'B', 'C', 'D']).toContain(column(row, 'Qualification Tier'));
      expect(column(row, 'Enrichment Status')).toBe('ENRICHED');
      expect(column(row, 'Failure Reason')).toBe('');
    });
    const injected = rows[6]!;
    expect(column(injected, 'DEALER NAME')).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(column(injected, 'EMAIL')).toBe(`'@SUM(A1)`);
    expect(column(injected, 'Enrichment Status')).toBe('FAILED');
    expect(column(injected, 'Failure Reason')).not.toBe('');
    expect(column(injected, 'Dealer Website URL')).toBe('');
  });

  it('refuses a second file for the job, and its link once used', async () => {
    const { uploadUrl } = await readJob(jobId);
    expect(uploadUrl).toBeNull();
    const created = await createJob({ name: 'another.csv', upload: true });
    const other = created.data!['createEnrichmentJob'];
    const first = await put(other.uploadUrl, `Company,Website\r\nAcme,acme.example\r\n`);
    expect(first.status).toBe(200);
    const again = await put(other.uploadUrl, `Company,Website\r\nAcme,acme.example\r\n`);
    expect(again.status).toBe(403);
  });
});

const recordCount = async (id: string) => (await readJob(id)).records.edges.length;

describe('files an enrichment job refuses, and files that break off', () => {
  it('reads a windows-1252, semicolon-delimited file with the mapping given for its columns', async () => {
    const created = await createJob({ name: 'cafés.csv', upload: true, steps: ['WEBSITE'], columnMapping: [{ column: 'Firma', field: 'companyName' }, { column: 'Netz', field: 'website' }] });
    expect(created.errors).toBeUndefined();
    const job = created.data!['createEnrichmentJob'];
    const file = Buffer.from('Firma;Netz;Straße\r\nCafé Müller;cafe-mueller.example;Hauptstraße 1\r\nBäckerei Schön;baeckerei.example;Gartenweg 2\r\n', 'latin1');
    const uploaded = await put(job.uploadUrl, file);
    expect(uploaded.status).toBe(200);
    expect(uploaded.json).toMatchObject({ rows: 2, encoding: 'windows-1252', delimiter: ';' });
    const done = await finished(job.id);
    expect(done.records.edges[0].node.input).toEqual({ Firma: 'Café Müller', Netz: 'cafe-mueller.example', Straße: 'Hauptstraße 1' });
    const [fileHeader, first] = await download(done.downloadUrl);
    expect(fileHeader!.slice(0, 3)).toEqual(['Firma', 'Netz', 'Straße']);
    expect(first!.slice(0, 3)).toEqual(['Café Müller', 'cafe-mueller.example', 'Hauptstraße 1']);
  });

  it('answers a file it cannot use with a coded error, keeps nothing, and takes a good file at the same link', async () => {
    const created = await createJob({ name: 'bad.csv', upload: true, steps: ['WEBSITE'] });
    const job = created.data!['createEnrichmentJob'];

    const empty = await put(job.uploadUrl, '');
    expect(empty.status).toBe(422);
    expect(empty.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNREADABLE_CSV' });

    const nothing = await put(job.uploadUrl, 'colour,size\r\nred,10\r\n');
    expect(nothing.status).toBe(422);
    expect(nothing.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NOTHING_TO_ENRICH' });
    expect(nothing.json.errors[0].message).toMatch(/columnMapping/);

    // Three thousand good rows, then a quote never closed: not one of them is kept.
    const good = Array.from({ length: 3_000 }, (_, index) => `Company ${index},company${index}.example`).join('\r\n');
    const unclosed = await put(job.uploadUrl, `Company,Website\r\n${good}\r\n"Broken Co,broken.example\r\n${good}`);
    expect(unclosed.status).toBe(422);
    expect(unclosed.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNREADABLE_CSV' });
    expect(await recordCount(job.id)).toBe(0);

    // The client goes away half-way through a large file.
    const broken = new Readable({ read() {} });
    broken.push(`Company,Website\r\n${good}\r\n`);
    const cutOff = request(job.uploadUrl, { method: 'PUT', headers: { ...authorization(), 'content-type': 'text/csv' }, body: broken }).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    broken.destroy(new Error('client went away'));
    await cutOff;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waiting = await readJob(job.id);
    expect(waiting).toMatchObject({ status: 'QUEUED', total: 0 });
    expect(waiting.records.edges).toHaveLength(0);
    expect(waiting.uploadUrl).toMatch(/\/files\/enrichment\//);

    const accepted = await put(job.uploadUrl, `Company,Website\r\n${good}\r\n`);
    expect(accepted.status).toBe(200);
    expect(accepted.json.rows).toBe(3_000);
    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', total: 3_000 });
  }, 120_000);

  it('refuses a column mapping naming a column the file does not have, and bad input at creation', async () => {
    const created = await createJob({ name: 'typo.csv', upload: true, columnMapping: [{ column: 'Compnay', field: 'companyName' }] });
    const refused = await put(created.data!['createEnrichmentJob'].uploadUrl, 'Company,Website\r\nAcme,acme.example\r\n');
    expect(refused.status).toBe(422);
    expect(refused.json.errors[0].extensions).toMatchObject({ reason: 'UNKNOWN_COLUMN', column: 'Compnay' });
    expect(refused.json.errors[0].message).toMatch(/Company, Website/);

    const unknownField = await createJob({ name: 'x.csv', upload: true, columnMapping: [{ column: 'Company', field: 'shoeSize' }] });
    expect(unknownField.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const both = await createJob({ name: 'x.csv', upload: true, records: [{ companyName: 'Acme', website: 'acme.example' }] });
    expect(both.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});

const createLead = async (input: Record<string, unknown>) => {
  const created = await stack.gql(`mutation ($input: CreateLeadInput!) { createLead(input: $input) { id } }`, { input });
  expect(created.errors).toBeUndefined();
  return created.data!['createLead'].id as string;
};
const createCompany = async (name: string) => {
  const created = await stack.gql(`mutation ($input: CreateCompanyInput!) { createCompany(input: $input) { id } }`, { input: { name } });
  expect(created.errors).toBeUndefined();
  return created.data!['createCompany'].id as string;
};
const createList = async (name: string, leadIds: string[], requestHeaders?: Record<string, string>) => {
  const listId = (await stack.gql(`mutation ($name: String!) { createLeadList(name: $name) { id } }`, { name }, requestHeaders)).data!['createLeadList'].id as string;
  if (leadIds.length) {
    const added = await stack.gql(`mutation ($listId: ID!, $leadIds: [ID!]!) { addLeadsToList(listId: $listId, leadIds: $leadIds) { leadCount } }`, { listId, leadIds }, requestHeaders);
    expect(added.data!['addLeadsToList']).toEqual({ leadCount: leadIds.length });
  }
  return listId;
};
const waitForLead = async (id: string, ready: (lead: any) => boolean) => {
  const leadQuery = `query ($id: ID!) { lead(id: $id) { title company { name domain websiteUrl } enrichment { status domain contacts { name title } } qualification { tier } } }`;
  let lead: any;
  for (let waited = 0; waited < 30_000; waited += 100) {
    lead = (await stack.gql(leadQuery, { id })).data?.['lead'];
    if (lead && ready(lead)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return lead;
};

describe('a lead list of crm-service, enriched, and what it found reaching the leads', () => {
  it('reads the list’s leads from crm-service by reference and fills each lead’s empty fields from its result', async () => {
    const [first, second] = dealers.map((row) => ({ row, fixture: fixtures.get(row['DEALER NAME']!)! }));
    const [firstName = null, lastName = null] = first!.fixture.owner!.name.split(' ');
    const owner = await createLead({ firstName, lastName, companyId: await createCompany(first!.row['DEALER NAME']!) });
    const stranger = await createLead({ firstName: 'Pat', lastName: 'Unrelated', title: 'Buyer', companyId: await createCompany(second!.row['DEALER NAME']!) });
    const listId = await createList('my list', [owner, stranger]);

    const created = await createJob({ name: 'my list', leadListId: listId });
    expect(created.errors).toBeUndefined();
    expect(created.data!['createEnrichmentJob']).toMatchObject({ source: 'LEAD_LIST', total: 2 });
    const done = await finished(created.data!['createEnrichmentJob'].id);
    const records = done.records.edges.map((edge: { node: any }) => edge.node);
    expect(records.map((record: any) => record.lead.id)).toEqual([owner, stranger]);
    expect(records.map((record: any) => [record.status, record.steps.filter((step: any) => step.status !== 'DONE')])).toEqual([['ENRICHED', []], ['ENRICHED', []]]);

    // The owner found on the site is this lead: its title is filled; its company gets the domain and website.
    const filled = await waitForLead(owner, (lead) => Boolean(lead.title));
    expect(filled).toMatchObject({ title: 'Owner', company: { name: first!.row['DEALER NAME'], domain: first!.fixture.host }, enrichment: { status: 'ENRICHED', domain: first!.fixture.host } });
    expect(filled.company.websiteUrl).toBe(records[0].website);
    // The lead's enrichment carries every contact found, best-ranked first, not only the owner.
    expect(filled.enrichment.contacts.map((contact: { title: string }) => contact.title)).toEqual(['Owner', 'General Manager', 'Finance Manager']);
    expect(['A', 'B', 'C', 'D']).toContain(filled.qualification.tier);
    // Someone else's lead keeps its own title; its company gets the domain found.
    const other = await waitForLead(stranger, (lead) => Boolean(lead.company?.domain));
    expect(other).toMatchObject({ title: 'Buyer', company: { name: second!.row['DEALER NAME'], domain: second!.fixture.host } });
  }, 120_000);

  it('reads an imported list of 230 leads page by page in the job, every lead once, in the list’s order', async () => {
    const lines = Array.from({ length: 230 }, (_, index) => `Person ${index},person${index}@company${index}.example,Company ${index},company${index}.example`);
    const started = await stack.gql(`mutation { importLeads(input: { fileName: "long.csv", listName: "Long list" }) { id uploadUrl } }`);
    expect(started.errors).toBeUndefined();
    const uploaded = await put(started.data!['importLeads'].uploadUrl, `First Name,Email,Company,Website\r\n${lines.join('\r\n')}\r\n`);
    expect(uploaded.status).toBe(200);
    let imported: any;
    for (let waited = 0; waited < 60_000 && !['SUCCEEDED', 'FAILED'].includes(imported?.status); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      imported = (await stack.gql(`query ($id: ID!) { leadImport(id: $id) { status imported list { id leads(first: 20) { edges { node { id } } } } } }`, { id: started.data!['importLeads'].id })).data!['leadImport'];
    }
    expect(imported).toMatchObject({ status: 'SUCCEEDED', imported: 230 });

    const created = await createJob({ name: 'long list', leadListId: imported.list.id, steps: ['QUALIFICATION'] });
    expect(created.errors).toBeUndefined();
    // The mutation only counted the list: its leads are read by the job.
    expect(created.data!['createEnrichmentJob']).toMatchObject({ status: 'QUEUED', total: 230, recordsRead: 0 });
    const done = await finished(created.data!['createEnrichmentJob'].id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', total: 230, recordsRead: 230, completed: 230 });
    expect(done.records.edges.map((edge: { node: any }) => edge.node.lead.id)).toEqual(imported.list.leads.edges.map((edge: { node: any }) => edge.node.id));
  }, 120_000);

  it('refuses another tenant’s list and a list that does not exist alike, creating nothing', async () => {
    const before = (await stack.gql(`{ enrichmentJobs(first: 100) { edges { node { id } } } }`)).data!['enrichmentJobs'].edges.length;
    const { key } = await stack.gateway.services.apiKeys.createKey({ tenant: 'enrichment-rival', tier: 'pro' });
    const rival = { authorization: `Bearer ${key}` };
    const theirLead = (await stack.gql(`mutation { createLead(input: { firstName: "A", lastName: "B", email: "a@b.example" }) { id } }`, undefined, rival)).data!['createLead'].id as string;
    const theirs = await createList('theirs', [theirLead], rival);
    for (const leadListId of [theirs, randomUUID(), 'not-an-id']) {
      const refused = await createJob({ name: 'not mine', leadListId });
      expect(refused.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
    const after = (await stack.gql(`{ enrichmentJobs(first: 100) { edges { node { id } } } }`)).data!['enrichmentJobs'].edges.length;
    expect(after).toBe(before);
  });
});
