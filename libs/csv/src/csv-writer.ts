import { Readable } from 'node:stream';
import { stringify, type Options as StringifyOptions } from 'csv-stringify';
import type { CsvDelimiter } from './delimiter.js';

export interface CsvWriterOptions {
  /** The header row, one name per column; rows are arrays in this order. */
  header: readonly string[];
  /** Default: comma. */
  delimiter?: CsvDelimiter;
  /**
   * Starts the file with a UTF-8 byte-order mark, so Excel opens accented names correctly.
   * Default: true (the files are made for people and their spreadsheets).
   */
  bom?: boolean;
  /** `\r\n` as RFC 4180 and Excel write it, or `\n`. Default: `\r\n`. */
  recordDelimiter?: '\r\n' | '\n';
}

/** A cell value: strings as they are, numbers and booleans as text, dates as ISO 8601, null as empty. */
export type CsvCell = string | number | bigint | boolean | Date | null | undefined;

function stringifyOptions(options: CsvWriterOptions): StringifyOptions {
  return {
    header: true,
    columns: options.header.map((name) => ({ key: name, header: name })),
    delimiter: options.delimiter ?? ',',
    bom: options.bom ?? true,
    record_delimiter: options.recordDelimiter === '\n' ? 'unix' : 'windows',
    // A cell starting with = + - @ (or a tab or carriage return) would run as a formula in a
    // spreadsheet: the value of a lead list is attacker-controlled text (CSV injection). It is
    // prefixed with ' so it shows as the text it is.
    escape_formulas: true,
    // Quotes and delimiters are quoted by csv-stringify itself. A line break only when it is the
    // record delimiter exactly, so a lone \n inside a cell of a \r\n file would go out bare and
    // split the record in most readers; surrounding spaces, which some readers trim, likewise.
    quoted_match: /[\r\n]|^\s|\s$/,
    cast: {
      date: (value) => value.toISOString(),
      boolean: (value) => (value ? 'true' : 'false'),
    },
  };
}

/**
 * A transform stream from rows (arrays of cells, in header order) to CSV text, with backpressure:
 * `pipeline(rowsReadable, createCsvWriter({ header }), destination)`.
 */
export function createCsvWriter(options: CsvWriterOptions) {
  return stringify(stringifyOptions(options));
}

/**
 * Streams rows from any (async) iterable as CSV bytes; reading the result drives the iteration, so
 * a database cursor behind `rows` is read only as fast as the client downloads.
 */
export function exportCsv(rows: AsyncIterable<readonly CsvCell[]> | Iterable<readonly CsvCell[]>, options: CsvWriterOptions): Readable {
  const writer = createCsvWriter(options);
  const source = Readable.from(rows as AsyncIterable<CsvCell[]>, { objectMode: true });
  source.on('error', (error) => writer.destroy(error));
  writer.on('close', () => source.destroy());
  return source.pipe(writer);
}
