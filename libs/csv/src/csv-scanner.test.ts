import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { CsvRecordTooLargeError, CsvUnclosedQuoteError } from './csv-errors.js';
import { CsvScanner, type CsvRecord } from './csv-scanner.js';
import type { CsvDelimiter } from './delimiter.js';

/** Scans `text` handed over in pieces of the given sizes (cycled). */
function scan(text: string, pieceSizes: number[] = [text.length || 1], delimiter: CsvDelimiter = ',', maximumRecordCharacters = 1 << 20): CsvRecord[] {
  const scanner = new CsvScanner(delimiter, maximumRecordCharacters);
  const records: CsvRecord[] = [];
  for (let offset = 0, piece = 0; offset < text.length; piece += 1) {
    const size = pieceSizes[piece % pieceSizes.length]!;
    scanner.write(text.slice(offset, offset + size), records);
    offset += size;
  }
  scanner.end(records);
  return records;
}

/** What csv-parse reads, with the options the reader used it with before the scanner. */
function parsed(text: string, delimiter: CsvDelimiter = ','): string[][] {
  return parse(text, { delimiter, relax_quotes: true, relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'], skip_empty_lines: false }) as string[][];
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

describe('CsvScanner', () => {
  it('reads cells, quoted cells, escaped quotes and every line ending', () => {
    const records = scan('a,b\r\n"x, y","say ""hi"""\n\n"multi\nline",z\rlast,"" ');
    expect(records).toEqual([
      { values: ['a', 'b'], line: 1 },
      { values: ['x, y', 'say "hi"'], line: 2 },
      { values: [''], line: 3 },
      { values: ['multi\nline', 'z'], line: 4 },
      { values: ['last', '"" '], line: 6 },
    ]);
  });

  it('counts a \\r\\n inside a quoted cell as one line break', () => {
    expect(scan('"a\r\nb",c\r\nd,e\r\n', [3]).map((record) => record.line)).toEqual([1, 3]);
  });

  it('reads what csv-parse reads, however the text is cut into pieces', () => {
    const next = random(20_260_412);
    const alphabet = ['a', 'b', ',', ';', '"', '"', '""', '\n', '\r\n', '\r', ' ', 'é', '😀'];
    for (let round = 0; round < 5_000; round += 1) {
      const length = Math.floor(next() * 40);
      let text = '';
      for (let index = 0; index < length; index += 1) text += alphabet[Math.floor(next() * alphabet.length)];
      const delimiter: CsvDelimiter = next() < 0.8 ? ',' : ';';
      let expected: string[][] | 'unclosed';
      try {
        expected = parsed(text, delimiter);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('CSV_QUOTE_NOT_CLOSED');
        expected = 'unclosed';
      }
      const pieces = [1 + Math.floor(next() * 7), 1 + Math.floor(next() * 3)];
      for (const sizes of [[text.length || 1], pieces]) {
        let actual: string[][] | 'unclosed';
        try {
          actual = scan(text, sizes, delimiter).map((record) => record.values);
        } catch (error) {
          expect(error).toBeInstanceOf(CsvUnclosedQuoteError);
          actual = 'unclosed';
        }
        if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`differs on ${JSON.stringify(text)} (${delimiter}, pieces ${sizes.join('/')}): ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
      }
    }
  });

  it('names the line of a record every piece size agrees on', () => {
    const text = 'h1,h2\n"one\ntwo",x\r\n\r\n3,"4\r5"\n6,7';
    const whole = scan(text).map((record) => record.line);
    expect(whole).toEqual([1, 2, 4, 5, 7]);
    for (const size of [1, 2, 3, 5, 8]) expect(scan(text, [size]).map((record) => record.line)).toEqual(whole);
  });

  it('stops at a quote never closed, naming the line its record begins on', () => {
    expect(() => scan('a,b\nc,"d\ne\n', [2])).toThrow(CsvUnclosedQuoteError);
    try {
      scan('a,b\nc,"d\ne\n', [2]);
    } catch (error) {
      expect(error).toMatchObject({ line: 2 });
    }
  });

  it('stops a record longer than the limit while it is still arriving', () => {
    const scanner = new CsvScanner(',', 1_000);
    const records: CsvRecord[] = [];
    scanner.write('a,b\nc,"', records);
    let thrown: unknown;
    try {
      for (let index = 0; index < 100; index += 1) scanner.write('x'.repeat(100), records);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CsvRecordTooLargeError);
    expect(thrown).toMatchObject({ line: 2 });
    expect(records).toEqual([{ values: ['a', 'b'], line: 1 }]);
  });
});
