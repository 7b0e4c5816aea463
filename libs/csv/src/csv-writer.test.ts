import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from '@jest/globals';
import { openCsv } from './csv-reader.js';
import { createCsvWriter, exportCsv, type CsvCell } from './csv-writer.js';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

describe('exportCsv', () => {
  it('escapes formulas, quotes what needs quoting, and reads back as written', async () => {
    const rows: CsvCell[][] = [
      ['=HYPERLINK("http://evil.example","click")', '+1 555 0100', '-2+3', '@SUM(A1)'],
      ['Smith, John', 'says "hi"', 'two\nlines', ' padded '],
      ['Zoë Ørsted', 42, -7, null],
      [new Date('2026-12-03T10:00:00Z'), true, false, undefined],
    ];
    const csv = await text(exportCsv(rows, { header: ['a', 'b', 'c', 'd'] }));
    expect(csv.startsWith('\uFEFFa,b,c,d\r\n')).toBe(true);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")",'+1 555 0100,'-2+3,'@SUM(A1)\r\n`);
    expect(csv).toContain('"Smith, John","says ""hi""","two\nlines"," padded "\r\n');
    expect(csv).toContain('Zoë Ørsted,42,-7,\r\n');
    expect(csv).toContain('2026-12-03T10:00:00.000Z,true,false,\r\n');

    const reader = await openCsv(Readable.from([Buffer.from(csv)]));
    const values: string[][] = [];
    for await (const row of reader.rows()) values.push(row.values);
    expect(values[1]).toEqual(['Smith, John', 'says "hi"', 'two\nlines', ' padded ']);
    expect(values[0]![0]).toBe(`'=HYPERLINK("http://evil.example","click")`);
  });

  it('writes without a byte-order mark, with another delimiter and line ending when asked', async () => {
    const csv = await text(exportCsv([['a;b', 'c']], { header: ['x', 'y'], bom: false, delimiter: ';', recordDelimiter: '\n' }));
    expect(csv).toBe('x;y\n"a;b";c\n');
  });

  it('reads its rows only as fast as the destination takes them', async () => {
    let produced = 0;
    async function* rows() {
      for (let index = 0; index < 1_000_000; index += 1) {
        produced += 1;
        yield [String(index), 'x'.repeat(100)];
      }
    }
    let received = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > 200_000) return callback(new Error('enough'));
        setImmediate(callback);
      },
    });
    await expect(pipeline(Readable.from(rows()), createCsvWriter({ header: ['n', 'text'] }), slow)).rejects.toThrow('enough');
    expect(produced).toBeLessThan(10_000);
  });
});
