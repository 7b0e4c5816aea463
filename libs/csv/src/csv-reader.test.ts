import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { CsvBinaryFileError, CsvEmptyFileError, CsvRecordTooLargeError, CsvTooManyColumnsError, CsvUnclosedQuoteError } from './csv-errors.js';
import { openCsv, type CsvReader, type CsvRow } from './csv-reader.js';

const leads = (name: string) => new URL(`../../../fixtures/leads/${name}`, import.meta.url);

async function readAll(reader: CsvReader): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const row of reader.rows()) rows.push(row);
  return rows;
}

/** A source that hands out `bytes` in chunks of `size`, splitting characters and records anywhere. */
function chunked(bytes: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
    })(),
  );
}

describe('openCsv on real lead lists', () => {
  it.each([
    ['florida-dealers-10k.csv', 10_246, 18, 'DEALER NAME'],
    ['contractors-8k.csv', 8_277, 70, 'name'],
    ['companies-200.csv', 200, 9, 'company_name'],
  ])('reads every row of %s', async (file, rowCount, columnCount, secondHeaderOrFirst) => {
    const reader = await openCsv(createReadStream(leads(file), { highWaterMark: 16 * 1024 }));
    expect(reader.encoding.encoding).toBe('utf-8');
    expect(reader.delimiter).toBe(',');
    expect(reader.columns).toHaveLength(columnCount);
    expect(reader.columns.map((column) => column.header)).toContain(secondHeaderOrFirst);
    const rows = await readAll(reader);
    expect(rows).toHaveLength(rowCount);
    expect(rows.every((row) => row.values.length === columnCount)).toBe(true);
    expect(rows.at(-1)!.number).toBe(rowCount);
    expect(reader.report).toMatchObject({ rows: rowCount, rejectedRows: 0, complete: true, bytes: (await readFile(leads(file))).length });
  });

  it('keeps a quoted cell with commas and line numbers of the file', async () => {
    const reader = await openCsv(createReadStream(leads('companies-200.csv')));
    const rows = await readAll(reader);
    expect(rows[2]!.values[0]).toBe('ABACUS PLUMBING, AC & ELECTRICAL');
    expect(rows[2]!.line).toBe(4);
    expect(rows[0]!.values[8]).toBe('ICP Score: 72.8 | Tier: GOLD | Domain: aagenpro.com | OEMs: Briggs & Stratton, Cummins, Generac');
  });
});

describe('openCsv in every encoding and with every delimiter', () => {
  it.each([
    ['UTF-8 with a byte-order mark', (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'utf-8'],
    ['UTF-16 LE with a byte-order mark (Excel "Unicode text")', (text: string) => iconv.encode(text, 'utf-16le', { addBOM: true }), 'utf-16le'],
    ['UTF-16 BE with a byte-order mark', (text: string) => iconv.encode(text, 'utf-16be', { addBOM: true }), 'utf-16be'],
    ['UTF-16 LE without one', (text: string) => iconv.encode(text, 'utf-16le'), 'utf-16le'],
    ['windows-1252', (text: string) => iconv.encode(text, 'windows-1252'), 'windows-1252'],
  ])('reads the real companies list re-encoded as %s exactly as the UTF-8 original', async (_name, encode, encoding) => {
    const original = await readFile(leads('companies-200.csv'), 'utf8');
    // Accents, curly quotes and the euro sign, which only some encodings can hold.
    const text = original.replace('A & A GENPRO INC.', 'Ærøskøbing Café “Señor” €');
    const expected = await readAll(await openCsv(Readable.from([Buffer.from(text)])));
    const reader = await openCsv(chunked(encode(text), 333));
    expect(reader.encoding.encoding).toBe(encoding);
    const rows = await readAll(reader);
    expect(rows).toEqual(expected);
    expect(rows[0]!.values[0]).toBe('Ærøskøbing Café “Señor” €');
    expect(reader.columns[0]!.header).toBe('company_name');
  });

  it.each([
    ['semicolon', ';'],
    ['tab', '\t'],
    ['pipe', '|'],
  ] as const)('detects the %s delimiter, with quoted cells holding commas and line breaks', async (_name, delimiter) => {
    const lines = [
      ['Company', 'Website', 'Notes'],
      ['Müller, Söhne & Co', 'https://mueller.example', '"line one\nline two"'],
      ['Acme', 'acme.example', 'a, b, c'],
      ['Beta', 'beta.example', ''],
    ];
    const text = lines.map((cells) => cells.join(delimiter)).join('\r\n') + '\r\n';
    const reader = await openCsv(Readable.from([Buffer.from(text)]));
    expect(reader.delimiter).toBe(delimiter);
    const rows = await readAll(reader);
    expect(rows.map((row) => row.values)).toEqual([
      ['Müller, Söhne & Co', 'https://mueller.example', 'line one\nline two'],
      ['Acme', 'acme.example', 'a, b, c'],
      ['Beta', 'beta.example', ''],
    ]);
    expect(rows.map((row) => row.line)).toEqual([2, 4, 5]);
  });

  it('reads a file whose first 64 KiB are ASCII and whose later rows are Latin-1', async () => {
    const head = 'name,city\n' + 'Smith,Boston\n'.repeat(8_000);
    const bytes = Buffer.concat([Buffer.from(head), iconv.encode('Müller,Zürich\n', 'latin1')]);
    const reader = await openCsv(chunked(bytes, 4096));
    const rows = await readAll(reader);
    expect(rows).toHaveLength(8_001);
    expect(rows.at(-1)!.values).toEqual(['Müller', 'Zürich']);
    expect(reader.report.encoding).toBe('windows-1252');
  });
});

const open = (text: string | Buffer, options = {}) => openCsv(Readable.from([typeof text === 'string' ? Buffer.from(text) : text]), options);

describe('openCsv on bad input', () => {
  it('refuses an empty file, and one holding only a byte-order mark and blank lines', async () => {
    await expect(open(Buffer.alloc(0))).rejects.toThrow(CsvEmptyFileError);
    await expect(openCsv(Readable.from([]))).rejects.toThrow(CsvEmptyFileError);
    await expect(open('\uFEFF\r\n \n\n')).rejects.toThrow(CsvEmptyFileError);
    await expect(open(',,,\n,,\n')).rejects.toThrow(/needs a header row/);
  });

  it('accepts a header with no rows', async () => {
    const reader = await open('email,first_name\n');
    expect(reader.columns.map((column) => column.name)).toEqual(['email', 'first_name']);
    expect(await readAll(reader)).toEqual([]);
    expect(reader.report).toMatchObject({ rows: 0, complete: true });
  });

  it('refuses a spreadsheet workbook and binary data', async () => {
    await expect(open(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]))).rejects.toThrow(CsvBinaryFileError);
    await expect(open(Buffer.from(Array.from({ length: 70_000 }, (_value, index) => (index * 31) % 256)))).rejects.toThrow(/binary data/);
  });

  it('pads a row with missing cells, rejects one with extra filled cells, and ignores extra empty ones', async () => {
    const reader = await open('a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12,,\n');
    const rows = await readAll(reader);
    expect(rows.map((row) => [row.number, row.values])).toEqual([
      [1, ['1', '2', '3']],
      [2, ['4', '5', '']],
      [4, ['10', '11', '12']],
    ]);
    expect(reader.report).toMatchObject({ rows: 3, rejectedRows: 1, issueCount: 2 });
    expect(reader.report.issues).toEqual([
      expect.objectContaining({ code: 'MISSING_CELLS', row: 2, line: 3, outcome: 'kept' }),
      expect.objectContaining({ code: 'EXTRA_CELLS', row: 3, line: 4, outcome: 'rejected', message: expect.stringContaining('put that cell in double quotes') }),
    ]);
  });

  it('reads stray quotes inside cells as text', async () => {
    const rows = await readAll(await open('name,notes\nThe "Best" Cafe,ok\n"Quoted",5" pipe\n'));
    expect(rows.map((row) => row.values)).toEqual([
      ['The "Best" Cafe', 'ok'],
      ['Quoted', '5" pipe'],
    ]);
  });

  it('stops at a quote that is never closed, naming its line', async () => {
    const error = await open('name,notes\na,b\n"c,d\ne,f\n').then(readAll, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CsvUnclosedQuoteError);
    expect(error).toMatchObject({ code: 'CSV_UNCLOSED_QUOTE', line: 3, message: expect.stringContaining('opened near line 3 is never closed') });
  });

  it('stops with a typed error, in bounded memory, when an unclosed quote swallows megabytes', async () => {
    const body = Buffer.from('name,notes\na,"' + 'x'.repeat(1000) + '\n');
    const source = Readable.from(
      (function* () {
        yield body;
        for (let index = 0; index < 20_000; index += 1) yield Buffer.from('y'.repeat(1000) + '\n');
      })(),
    );
    const error = await openCsv(source, { maximumRecordCharacters: 1 << 20 }).then(readAll, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CsvRecordTooLargeError);
    expect((error as Error).message).toMatch(/near line 2 is longer than 1,048,576 characters.*never closed/s);
  });

  it('skips a repeated header row (files concatenated) and reports it', async () => {
    const reader = await open('email,name\na@x.io,A\nEmail,Name\nb@x.io,B\n');
    expect((await readAll(reader)).map((row) => row.values[0])).toEqual(['a@x.io', 'b@x.io']);
    expect(reader.report).toMatchObject({ rows: 2, repeatedHeaders: 1, issues: [expect.objectContaining({ code: 'REPEATED_HEADER', line: 3 })] });
  });

  it('gives duplicate and empty header names unique keys', async () => {
    const reader = await open('Email,email,,Phone Number, Phone  Number \nx,y,z,1,2\n');
    expect(reader.columns.map((column) => column.name)).toEqual(['email', 'email_2', 'column_3', 'phone_number', 'phone_number_2']);
    expect(reader.duplicateHeaders).toEqual(['Email', 'Phone Number']);
    expect((await readAll(reader))[0]!.values).toEqual(['x', 'y', 'z', '1', '2']);
  });

  it('refuses 10,000 columns with a typed error, and reads them when allowed', async () => {
    const header = Array.from({ length: 10_000 }, (_value, index) => `c${index}`).join(',');
    const row = Array.from({ length: 10_000 }, (_value, index) => String(index)).join(',');
    const error = await open(`${header}\n${row}\n`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CsvTooManyColumnsError);
    expect((error as Error).message).toBe('The header has 10,000 columns; at most 2,000 are supported. Remove the columns you do not need and upload again.');
    const wide = await open(`${header}\n${row}\n`, { maximumColumns: 10_000 });
    const rows = await readAll(wide);
    expect(rows[0]!.values[9_999]).toBe('9999');
  });

  it('rejects a row with a 1 MB cell and reads on', async () => {
    const reader = await open(`name,notes\na,short\nb,"${'z'.repeat(1_048_576)}"\nc,short\n`);
    expect((await readAll(reader)).map((row) => row.values[0])).toEqual(['a', 'c']);
    expect(reader.report.issues).toEqual([
      expect.objectContaining({ code: 'CELL_TOO_LONG', row: 2, column: 'notes', outcome: 'rejected', message: 'Row 2 (line 3): the "notes" cell holds 1,048,576 characters; at most 65,536 are allowed.' }),
    ]);
  });

  it('skips blank lines without counting them as rows', async () => {
    const reader = await open('a,b\n\n1,2\n,\n\r\n3,4');
    const rows = await readAll(reader);
    expect(rows.map((row) => [row.number, row.line, row.values])).toEqual([
      [1, 3, ['1', '2']],
      [2, 6, ['3', '4']],
    ]);
    expect(reader.report.blankRows).toBe(3);
  });

  it('passes an error of the source to the consumer and stops reading', async () => {
    let produced = 0;
    const source = new Readable({
      read() {
        produced += 1;
        if (produced === 500) this.destroy(new Error('client went away'));
        else this.push(Buffer.from('a,b\n'.repeat(1000)));
      },
    });
    // Found while reading the sample or while streaming the rows, depending on read-ahead.
    await expect(openCsv(source).then(readAll)).rejects.toThrow('client went away');
    expect(produced).toBe(500);
  });

  it('releases the source when the consumer stops early', async () => {
    const source = Readable.from((function* () { yield Buffer.from('a\n'); for (let index = 0; index < 1e6; index += 1) yield Buffer.from('1\n'.repeat(100)); })());
    const reader = await openCsv(source, { sampleRows: 1 });
    for await (const row of reader.rows()) if (row.number === 5) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });
});
