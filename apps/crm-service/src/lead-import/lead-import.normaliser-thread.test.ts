import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openCsv, type CsvRow } from '@gtm/csv';
import { stageCsv } from '@gtm/files';
import { createTestDatabase, type TestDatabase } from '@gtm/testing';
import pg from 'pg';
import { createRowNormaliser, stagedColumns } from './lead-import.normalise.js';
import { startRowNormaliserThread } from './lead-import.normaliser-thread.js';
import { resolveMapping } from './lead-import.upload.js';

const leads = (name: string) => new URL(`../../../../fixtures/leads/${name}`, import.meta.url);

async function readRows(file: string) {
  const reader = await openCsv(createReadStream(leads(file)));
  const rows: CsvRow[] = [];
  for await (const row of reader.rows()) rows.push(row);
  return { reader, rows };
}

describe('the row normaliser on a thread of its own', () => {
  it.each([
    ['florida-dealers-10k.csv', 0],
    ['contractors-8k.csv', 1],
  ])('gives exactly what it gives on the event loop, refusals included (%s)', async (file, minimumRefused) => {
    const { reader, rows } = await readRows(file);
    const mapping = resolveMapping(reader, []);
    const normalise = createRowNormaliser(reader.columns, mapping, 'US');
    const expected = rows.map(normalise);
    const thread = startRowNormaliserThread({ columns: reader.columns, mapping, defaultCountry: 'US' });
    try {
      // Several batches out at once, as the staging sends them; answered in order.
      const batches: Array<Promise<Array<Array<string | null>>>> = [];
      for (let start = 0; start < rows.length; start += 1_000) batches.push(thread.normalise(rows.slice(start, start + 1_000)));
      expect((await Promise.all(batches)).flat()).toEqual(expected);
    } finally {
      await thread.close();
    }
    // The contractors hold rows the normaliser refuses, so the comparison covers refusals too.
    expect(expected.filter((values) => values.at(-1) !== null).length).toBeGreaterThanOrEqual(minimumRefused);
  });
});

describe('staging through the normaliser thread', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 1 });
    await pool.query(`create table staged (row_number integer, line integer, cells jsonb, ${stagedColumns.map((column) => `${column} text`).join(', ')})`);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('fails the staging as a whole, leaving nothing, when the thread fails', async () => {
    const lines = ['name,email', ...Array.from({ length: 2_500 }, (_value, index) => `Lead ${index},lead${index}@example.com`)];
    const client = await pool.connect();
    let thread: ReturnType<typeof startRowNormaliserThread> | undefined;
    try {
      await client.query('begin');
      const staging = stageCsv({
        client,
        table: 'public.staged',
        body: Readable.from([Buffer.from(`${lines.join('\n')}\n`)]),
        derive: (reader) => {
          // A mapping naming a column the file does not have: the normaliser fails on the first
          // row's email (as it would on the event loop), which ends its thread.
          const mapping = [...resolveMapping(reader, []).map((mapped) => ({ ...mapped, field: null })), { column: 'gone', field: 'email' as const, confidence: 1 }];
          thread = startRowNormaliserThread({ columns: reader.columns, mapping, defaultCountry: null });
          return { columns: [...stagedColumns], valuesOfRows: (rows) => thread!.normalise(rows), close: () => thread!.close() };
        },
      });
      // (The thread's error, cloned into this thread: a TypeError of another realm than the test's.)
      const failure = { name: 'TypeError', message: expect.stringContaining("reading 'header'") };
      await expect(staging).rejects.toMatchObject(failure);
      await expect(thread!.normalise([{ number: 1, line: 2, values: ['a', 'b'] }])).rejects.toMatchObject(failure);
    } finally {
      await client.query('rollback');
      client.release();
    }
    expect((await pool.query('select count(*)::int as count from staged')).rows[0].count).toBe(0);
  });
});
