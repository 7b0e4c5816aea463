// The lead import's merge against the real PostgreSQL and Redis: the match keys it computes for
// staged rows agree with the keys of the tenant's companies and leads, and the rows it creates get
// time-ordered ids.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { type SubgraphUnderTest, createTestCaller, startSubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { importFile } from './lead-import.testing.js';

let subgraph: SubgraphUnderTest<SubgraphApp>;

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig({ ...environment, PUBLIC_URL: 'https://gtm.example.com' }), { onQuery }));
});

afterAll(() => subgraph?.close());

const em = () => subgraph.app.database.orm.em.fork();

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
    // Made from one prefix per statement and a row number: still one id per row.
    expect(new Set(ids.map(({ id }) => id)).size).toBe(100);
    for (const { id } of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const madeAt = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
      expect(madeAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(madeAt).toBeLessThanOrEqual(after + 1_000);
    }
  });
});

// The company name key as the function was first written (capturing groups); company.name_key values stored
// by it must still equal what the function gives now, or a company would no longer be found.
const firstBody = (name: string) =>
  `nullif(btrim(regexp_replace(regexp_replace(lower(coalesce(${name}, '')), '[^[:alnum:]]+', ' ', 'g'),
    '( (inc|incorporated|llc|l l c|ltd|limited|corp|corporation|co|company|pllc|plc|pa|lp|llp|gmbh))+ *$', '', 'g')), '')`;

describe('the company name key', () => {
  it('is, without capturing groups, the same string the first body of the function gave for every name', async () => {
    const pieces = [
      'inc', 'Inc.', 'INCORPORATED', 'llc', 'L.L.C.', 'l l c', 'L L', 'ltd', 'Limited', 'corp', 'Corp.', 'corporation', 'co', 'Co.', 'company', 'pllc', 'plc', 'pa', 'P.A.', 'lp',
      'llp', 'gmbh', 'GmbH', 'coinc', 'incorporate', 'Acme', 'A & A', 'Zoë’s', 'Straße', 'İstanbul', '9', ' ', '  ', ',', '.', '-', '&', '!!!', '',
    ];
    const [compared] = await em().execute<Array<{ names: number; differ: number; stripped: number; examples: string[] | null }>>(
      `with piece as (select array(select jsonb_array_elements_text(?::jsonb)) as list),
       name as (
         select (select string_agg(list[1 + floor(random() * cardinality(list))::int + 0 * part], case when random() < 0.7 then ' ' else '' end)
                 from generate_series(0, number % 7) as part) as name
         from generate_series(1, 20000) as number, piece
         union all select unnest(array[null, '', ' ', 'Inc', ' Inc', 'Acme, Inc.', 'ACME INC CO', 'acme l l c', 'acme coinc', 'co co', ' co co ', 'Acme Co Company Ltd.'])
       )
       select count(*)::int as names,
              count(*) filter (where crm.company_name_key(name) is distinct from ${firstBody('name')})::int as differ,
              count(*) filter (where crm.company_name_key(name) is distinct from nullif(btrim(regexp_replace(lower(coalesce(name, '')), '[^[:alnum:]]+', ' ', 'g')), ''))::int as stripped,
              (array_agg(name) filter (where crm.company_name_key(name) is distinct from ${firstBody('name')}))[1:5] as examples
       from name`,
      [JSON.stringify(pieces)],
    );
    expect(compared).toMatchObject({ names: 20_012, differ: 0, examples: null });
    // The corpus exercises the suffix rule, not only names that have none.
    expect(compared!.stripped).toBeGreaterThan(5_000);
  });
});
