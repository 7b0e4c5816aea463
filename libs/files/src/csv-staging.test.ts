import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@gtm/testing';
import pg from 'pg';
import { stageCsv } from './csv-staging.js';

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 1 });
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('stageCsv', () => {
  it('stores every cell and derived value as it was, whatever COPY would read into it', async () => {
    // Values COPY's CSV format treats specially unless quoted: empty (NULL), spaces, quotes,
    // delimiters, line breaks, the end-of-data marker, the text format's NULL; and, among the
    // derived values, what PostgreSQL cannot hold at all (NUL, half a surrogate pair), cleaned.
    const derived = ['', '  spaced  ', 'say "hi"', 'a,b', 'one\ntwo\r\nthree', '\\.', '\\N', 'plain', 'nul\u0000here', 'half \uD83D pair', '😀'];
    const cells = ['  spaced  ', 'say "hi"', 'a,b', 'one\ntwo', '\\.', '\\N', '', '😀'];
    const header = cells.map((_cell, index) => `c${index}`).join(',');
    const line = cells.map((cell) => `"${cell.replaceAll('"', '""')}"`).join(',');
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`create temporary table staged (upload_id text, row_number integer, line integer, cells jsonb, ${derived.map((_value, index) => `d${index} text`).join(', ')}, missing text)`);
      const staged = await stageCsv({
        client,
        table: 'pg_temp.staged',
        constants: { upload_id: 'upload "one", \\.' },
        body: Readable.from([Buffer.from(`${header}\n${line}\n`)]),
        derive: () => ({ columns: [...derived.map((_value, index) => `d${index}`), 'missing'], values: () => [...derived, null] }),
      });
      expect(staged.rows).toBe(1);
      const { rows } = await client.query('select * from staged');
      expect(rows).toEqual([
        {
          upload_id: 'upload "one", \\.',
          row_number: 1,
          line: 2,
          cells: ['  spaced  ', 'say "hi"', 'a,b', 'one\ntwo', '\\.', '\\N', '', '😀'],
          ...Object.fromEntries(derived.map((value, index) => [`d${index}`, (value === 'nul\u0000here' ? 'nulhere' : value === 'half \uD83D pair' ? 'half \uFFFD pair' : value)])),
          missing: null,
        },
      ]);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});
