import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, openCsv, type ColumnMappingSuggestion, type CsvColumn, type CsvDelimiter, type CsvReader, type CsvRow, type CsvRowIssue, type OpenCsvOptions } from '@gtm/csv';
import { badUserInput } from '@gtm/runtime';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface StageCsvOptions {
  /**
   * A connected client, inside the caller's transaction: the staged rows are committed with the
   * caller's own changes, or rolled back with them when the upload breaks off.
   */
  client: ClientBase;
  /**
   * The staging table (`schema.table`, lower-case identifiers). It needs the columns
   * `row_number integer, line integer, cells jsonb` (one JSON array of strings per row, in column
   * order) and one text column per `constants` entry.
   */
  table: string;
  /** Values written into every staged row (`{ import_id: '…' }`), so one table serves many uploads. */
  constants?: Record<string, string>;
  /** The upload's bytes (`IncomingUpload.body`). */
  body: Readable;
  /** Options of the CSV reader (limits, issue callback). */
  csv?: OpenCsvOptions;
  /**
   * Columns computed from each row while it streams past (normalised values an import matches
   * on), written after `cells`; null is SQL NULL. Called once the header is read, so it can map
   * columns by name; it may throw (`badUserInput`) to refuse the file before any row is staged.
   */
  derive?: (reader: CsvReader) => StagedDerivation;
}

export interface StagedDerivation {
  /** The staging table's columns the values go to, in order (lower-case identifiers). */
  columns: string[];
  values(row: CsvRow): Array<string | null>;
}

export interface StagedCsv {
  columns: CsvColumn[];
  suggestions: ColumnMappingSuggestion[];
  encoding: string;
  delimiter: CsvDelimiter;
  /** Rows written to the staging table. */
  rows: number;
  rejectedRows: number;
  issueCount: number;
  /** The first issues (see OpenCsvOptions.maximumIssues); pass `csv.onIssue` to record them all. */
  issues: CsvRowIssue[];
  bytes: number;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

function quoteIdentifier(name: string): string {
  if (!identifier.test(name)) throw new Error(`"${name}" is not a plain lower-case SQL identifier`);
  return `"${name}"`;
}

/** What makes a COPY CSV field need quotes (the delimiter is a comma). */
const needsQuotes = /[",\r\n]/;

/**
 * A value as a field of PostgreSQL's CSV COPY format: quoted only when it has to be (an empty
 * one, which unquoted would be NULL, and one holding a quote, comma or line break), since most
 * cells need none and a million rows are tens of millions of fields. COPY keeps the spaces of an
 * unquoted field; every line has several fields, so none is the `\.` end-of-data marker alone.
 */
function copyField(value: string): string {
  if (value === '') return '""';
  return needsQuotes.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Half of a surrogate pair: `storable` checks the ones it finds are paired. */
const surrogateHalf = /[\uD800-\uDFFF]/;

/** What PostgreSQL text and jsonb can hold: no NUL, no lone surrogate. */
function storable(value: string): string {
  // Almost every value has neither; one test of a character class is far cheaper than the rewrite.
  if (!value.includes('\u0000') && !surrogateHalf.test(value)) return value;
  return value.replaceAll('\u0000', '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** A row's derived values as the end of its COPY line: an unquoted empty field is NULL, a quoted one ''. */
function derivedFields(derived: Array<string | null> | null): string {
  return derived ? derived.map((value) => (value === null ? ',' : `,${copyField(storable(value))}`)).join('') : '';
}

/**
 * Reads a CSV upload with @gtm/csv and COPYs its rows into a staging table, as a stream: memory
 * stays flat whatever the file's size, and backpressure runs from PostgreSQL back to the client's
 * socket. Set-based SQL then turns the staged rows into domain rows (dedupe, merge).
 *
 * A file that cannot be read as CSV (empty, binary, an unclosed quote …) is refused with
 * `badUserInput` and its message; rows with problems are left out and reported. When the body
 * breaks off (the client disconnected), the COPY fails and so does the caller's transaction.
 */
export async function stageCsv(options: StageCsvOptions): Promise<StagedCsv> {
  const [schema, table, extra] = options.table.split('.');
  if (!schema || extra !== undefined) throw new Error(`stageCsv needs a schema-qualified table, got "${options.table}"`);
  const target = table ? `${quoteIdentifier(schema)}.${quoteIdentifier(table)}` : quoteIdentifier(schema);
  const constants = Object.entries(options.constants ?? {});
  const columnList = [...constants.map(([name]) => quoteIdentifier(name)), '"row_number"', '"line"', '"cells"'].join(', ');
  const constantFields = constants.map(([, value]) => `${copyField(storable(value))},`).join('');

  let reader;
  try {
    reader = await openCsv(options.body, options.csv);
  } catch (error) {
    if (error instanceof CsvError) throw badUserInput(error.message, undefined, { csvCode: error.code, ...(error.line ? { line: error.line } : {}) });
    throw error;
  }
  let derivation: StagedDerivation | undefined;
  try {
    derivation = options.derive?.(reader);
  } catch (error) {
    reader.close();
    throw error;
  }
  const derivedList = derivation ? derivation.columns.map((name) => `, ${quoteIdentifier(name)}`).join('') : '';
  const copyLine = (row: CsvRow, derived: Array<string | null> | null) => {
    const cells = row.values.some((value) => storable(value) !== value) ? row.values.map(storable) : row.values;
    return `${constantFields}${row.number},${row.line},${copyField(JSON.stringify(cells))}${derivedFields(derived)}\n`;
  };
  const rows = reader.rows();
  async function* copyData(): AsyncGenerator<string> {
    // Rows go out in batches of about 64 KiB: one write per row would cost more than the parsing.
    let batch = '';
    for await (const row of rows) {
      batch += copyLine(row, derivation ? derivation.values(row) : null);
      if (batch.length >= 65_536) {
        yield batch;
        batch = '';
      }
    }
    if (batch) yield batch;
  }
  const copy = options.client.query(copyFrom(`COPY ${target} (${columnList}${derivedList}) FROM STDIN WITH (FORMAT csv)`));
  try {
    await pipeline(Readable.from(copyData(), { objectMode: false }), copy);
  } catch (error) {
    reader.close();
    if (error instanceof CsvError) throw badUserInput(error.message, undefined, { csvCode: error.code, ...(error.line ? { line: error.line } : {}) });
    throw error;
  }
  const { report } = reader;
  return {
    columns: reader.columns,
    suggestions: reader.suggestMapping(),
    encoding: report.encoding,
    delimiter: reader.delimiter,
    rows: report.rows,
    rejectedRows: report.rejectedRows,
    issueCount: report.issueCount,
    issues: report.issues,
    bytes: report.bytes,
  };
}
