// The lead import's merge against the real PostgreSQL and Redis: the match keys it reads from the
// staging table agree with the keys of the tenant's companies and leads, a staging table written
// before its rows carried those keys still merges, and the rows it creates get time-ordered ids.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { tenantFilterName } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { LeadImport } from './lead-import.entity.js';
import { mergeStagedImport } from './lead-import.merge.js';
import { stagedColumns } from './lead-import.normalise.js';
import { importFile } from './lead-import.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig({ ...environment, PUBLIC_URL: 'https://gtm.example.com' }), { onQuery }));
});

afterAll(() => subgraph?.close());

const em = () => subgraph.app.database.orm.em.fork();
/** A row of the staging table's normalised columns, in their order. */
const row = (values: Partial<Record<(typeof stagedColumns)[number], string>>) => stagedColumns.map((column) => values[column] ?? null);
const customOf = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

describe('the match keys of staged rows', () => {
  it('find the companies and people the tenant has under other spellings: case, accents, punctuation, legal suffixes', async () => {
    const who = createTestCaller();
    const companies = [
      ['A & A GenPro, Inc.', 'a&a genpro llc'],
      ['Zoë’s Café Co.', 'ZOË S CAFÉ'],
      ['Ürün Ltd', 'ürün'],
      ['Straße 9 GmbH', 'STRASSE 9'],
    ];
    for (const [name] of companies) {
      await em().execute(`insert into crm.company (id, tenant_id, name, created_at, updated_at) values (gen_random_uuid(), ?, ?, now(), now())`, [who.tenantId, name]);
    }
    const [acme] = await em().execute<Array<{ id: string }>>(`select id from crm.company where tenant_id = ? and name = 'A & A GenPro, Inc.'`, [who.tenantId]);
    await em().execute(`insert into crm.lead (id, tenant_id, first_name, last_name, company_id, created_at, updated_at) values (gen_random_uuid(), ?, 'Renée', 'O''Brien-Smith', ?, now(), now())`, [
      who.tenantId,
      acme!.id,
    ]);

    const file = ['Company,First Name,Last Name,Phone', ...companies.map(([, spelling]) => `"${spelling}",,,`), '"a&a genpro llc",RENÉE,O\'BRIEN SMITH,', '"!!!",,,+1 305 555 0100'].join('\n');
    const result = await importFile(subgraph, who, `${file}\n`, { country: 'US' });
    expect(result).toMatchObject({ status: 'SUCCEEDED', total: 6, rejected: 0 });

    const [counts] = await em().execute<Array<{ companies: string; leads: string; renee: string }>>(
      `select (select count(*) from crm.company where tenant_id = ?) as companies, (select count(*) from crm.lead where tenant_id = ?) as leads,
              (select count(*) from crm.lead where tenant_id = ? and company_id = ? and name_key = 'renée o''brien smith') as renee`,
      [who.tenantId, who.tenantId, who.tenantId, acme!.id],
    );
    // "Straße" and "STRASSE" are different words (no key folds ß); every other spelling is its company.
    expect(Number(counts!.companies)).toBe(5);
    // Renée at A & A is the lead the tenant had; a name of punctuation alone names no company, so that row is known by its phone.
    expect(Number(counts!.renee)).toBe(1);
    expect(result).toMatchObject({ imported: 5, merged: 1 });
    expect(Number(counts!.leads)).toBe(6);
  });
});

describe('a staging table without match-key columns', () => {
  it('is merged all the same: the merge adds the keys the upload of an older version did not stage', async () => {
    const who = createTestCaller();
    const started = await subgraph.call(who, `mutation { importLeads(input: { fileName: "old.csv" }) { id } }`);
    const importId = started.data!['importLeads'].id as string;
    const stagingTable = `lead_import_rows_${importId.replaceAll('-', '')}`;
    await em().execute(`create unlogged table crm."${stagingTable}" (row_number integer not null, line integer not null, cells jsonb not null, ${stagedColumns.map((column) => `${column} text`).join(', ')})`);
    const rows = [
      row({ email: 'ada@old.example', first_name: 'Ada', last_name: 'King', company_name: 'Old Works Inc.', custom: '{}' }),
      row({ email: 'ada@old.example', company_name: 'OLD WORKS', custom: '{"Badge":"7"}' }),
      row({ first_name: 'Bob', company_name: 'Old Works, LLC', custom: '{}' }),
    ];
    for (const [index, values] of rows.entries()) {
      await em().execute(`insert into crm."${stagingTable}" values (?, ?, '{}'::jsonb, ${stagedColumns.map(() => '?').join(', ')})`, [index + 1, index + 2, ...values]);
    }
    await em().execute(`update crm.lead_import set staging_table = ?, file_received_at = now(), rows_read = 3 where id = ?`, [stagingTable, importId]);

    const leadImport = await em().findOneOrFail(LeadImport, { id: importId }, { filters: false });
    const scoped = em();
    scoped.setFilterParams(tenantFilterName, { tenantId: who.tenantId });
    const counts = await scoped.transactional((transaction) => mergeStagedImport(transaction, leadImport, null));
    expect(counts).toMatchObject({ refused: 0, imported: 2, merged: 1, companiesCreated: 1 });
    const leads = await em().execute<Array<{ email: string | null; first_name: string; company: string; custom_fields: unknown }>>(
      `select lead.email, lead.first_name, company.name as company, lead.custom_fields from crm.lead join crm.company on company.id = lead.company_id where lead.tenant_id = ? order by lead.first_name`,
      [who.tenantId],
    );
    expect(leads.map((lead) => [lead.email, lead.first_name, lead.company, customOf(lead.custom_fields)])).toEqual([
      ['ada@old.example', 'Ada', 'Old Works Inc.', { Badge: '7' }],
      [null, 'Bob', 'Old Works Inc.', {}],
    ]);
  });
});

describe('the rows an import creates', () => {
  it('get time-ordered ids (UUID version 7): their first 48 bits are the time they were made', async () => {
    const who = createTestCaller();
    const file = ['Email,Company,Website', ...Array.from({ length: 50 }, (_unused, index) => `person${index}@ordered.example,Ordered ${index},ordered${index}.example`)].join('\n');
    const before = Date.now();
    const result = await importFile(subgraph, who, `${file}\n`);
    const after = Date.now();
    expect(result).toMatchObject({ status: 'SUCCEEDED', imported: 50 });
    const ids = await em().execute<Array<{ id: string }>>(`select id::text from crm.lead where tenant_id = ? union all select id::text from crm.company where tenant_id = ?`, [who.tenantId, who.tenantId]);
    expect(ids).toHaveLength(100);
    for (const { id } of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const madeAt = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
      expect(madeAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(madeAt).toBeLessThanOrEqual(after + 1_000);
    }
  });
});
