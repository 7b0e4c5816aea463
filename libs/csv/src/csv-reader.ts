import { Readable } from 'node:stream';
import { suggestColumnMapping, type ColumnMappingSuggestion, type SuggestColumnMappingOptions } from './column-mapping.js';
import { CsvEmptyFileError, CsvTooManyColumnsError } from './csv-errors.js';
import { CsvScanner, type CsvRecord } from './csv-scanner.js';
import { detectDelimiter, type CsvDelimiter } from './delimiter.js';
import { createDecoder, detectEncoding, type DetectedEncoding } from './encoding.js';
import { headerWords, normaliseHeader, type CsvColumn } from './header.js';

export interface OpenCsvOptions {
  /** Bytes read before parsing to detect the encoding and the delimiter. Default: 64 KiB. */
  sniffBytes?: number;
  /** The delimiter, when known; default: detected (comma, semicolon, tab or pipe). */
  delimiter?: CsvDelimiter;
  /** The encoding (an iconv-lite name), when known; default: detected. */
  encoding?: string;
  /** Most columns a header may name; more is a CsvTooManyColumnsError. Default: 2,000. */
  maximumColumns?: number;
  /** Longest cell, in characters; a row with a longer one is rejected (and reported). Default: 65,536. */
  maximumCellCharacters?: number;
  /**
   * Longest record the reader holds, in characters; longer stops the read with a
   * CsvRecordTooLargeError (a quote never closed swallows the rest of the file into one cell, and
   * this keeps that from filling memory). Default: 8 MiB.
   */
  maximumRecordCharacters?: number;
  /** Data rows read ahead for `sample` (mapping suggestions). Default: 100. */
  sampleRows?: number;
  /** Row issues kept in `report.issues` (all are counted and passed to `onIssue`). Default: 100. */
  maximumIssues?: number;
  /** Called with every row issue as it is found, for a consumer that records them all. */
  onIssue?: (issue: CsvRowIssue) => void;
  /** Aborts the read: the source is destroyed and iteration throws. */
  signal?: AbortSignal;
}

/** One data row. */
export interface CsvRow {
  /** 1 = the first data row after the header (blank lines and repeated headers are not counted). */
  number: number;
  /** The line of the file the row starts on (1 = the header's first line). */
  line: number;
  /** One value per header column, in column order: missing cells are '', extra empty cells dropped. */
  values: string[];
}

export type CsvRowIssueCode = 'MISSING_CELLS' | 'EXTRA_CELLS' | 'CELL_TOO_LONG' | 'REPEATED_HEADER';

/** Something wrong with one row: it was kept (with a repair) or left out. */
export interface CsvRowIssue {
  code: CsvRowIssueCode;
  /** The data row's number (as CsvRow.number); null for a repeated header, which is no data row. */
  row: number | null;
  line: number;
  /** The column's header, when the issue is about one cell. */
  column?: string;
  /** `kept`: the row is read with the repair the message names; `rejected`: it is not read. */
  outcome: 'kept' | 'rejected';
  message: string;
}

export interface CsvReport {
  /** Bytes read from the source so far. */
  bytes: number;
  /** Data rows read (kept), so far. */
  rows: number;
  rejectedRows: number;
  blankRows: number;
  repeatedHeaders: number;
  issueCount: number;
  /** The first `maximumIssues` issues. */
  issues: CsvRowIssue[];
  /** The encoding the text was read in (it can change from utf-8 to windows-1252 mid-file). */
  encoding: string;
  /** Byte sequences that were not valid text and were read as U+FFFD. */
  invalidSequences: number;
  /** True once every row has been read. */
  complete: boolean;
}

export interface CsvReader {
  encoding: DetectedEncoding;
  delimiter: CsvDelimiter;
  columns: CsvColumn[];
  /** Headers that appear more than once (their columns get `_2`, `_3` … names). */
  duplicateHeaders: string[];
  /** The first data rows (up to `sampleRows`), also yielded again by `rows()`. */
  sample: string[][];
  suggestMapping(options?: SuggestColumnMappingOptions): ColumnMappingSuggestion[];
  /** Every data row, in order, streamed: call once. Throws a CsvError when the file breaks off. */
  rows(): AsyncGenerator<CsvRow>;
  report: CsvReport;
  /** Stops reading and releases the source, when the rows are not wanted after all. */
  close(): void;
}

export type CsvSource = Readable | AsyncIterable<Uint8Array | string>;

function toBytes(chunk: Uint8Array | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const sampleCharacterBudget = 1 << 20;

const isBlank = (values: string[]) => values.every((value) => value.trim() === '');

/**
 * Opens a CSV stream: reads its first bytes to detect the encoding (UTF-8 with or without BOM,
 * UTF-16 LE/BE, windows-1252/Latin-1, or what chardet recognises) and the delimiter, parses the
 * header and a sample of rows, and returns a reader whose `rows()` streams the rest with
 * backpressure. Nothing holds more than a record (and the sample) in memory.
 *
 * Throws CsvEmptyFileError, CsvBinaryFileError, CsvTooManyColumnsError, or a CsvError of the
 * scanner (unclosed quote, oversized record) found in the sample. Problems of single rows (missing
 * or extra cells, an oversized cell, the header repeated) are reported, not thrown.
 */
export async function openCsv(source: CsvSource, options: OpenCsvOptions = {}): Promise<CsvReader> {
  const sniffBytes = options.sniffBytes ?? 65_536;
  const maximumColumns = options.maximumColumns ?? 2_000;
  const maximumCellCharacters = options.maximumCellCharacters ?? 65_536;
  const maximumRecordCharacters = options.maximumRecordCharacters ?? 8 * 1024 * 1024;
  const sampleSize = options.sampleRows ?? 100;
  const maximumIssues = options.maximumIssues ?? 100;

  const input = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  const abandon = () => {
    if (source instanceof Readable) source.destroy();
    else void input.return?.();
  };
  const report: CsvReport = {
    bytes: 0,
    rows: 0,
    rejectedRows: 0,
    blankRows: 0,
    repeatedHeaders: 0,
    issueCount: 0,
    issues: [],
    encoding: 'utf-8',
    invalidSequences: 0,
    complete: false,
  };

  // The first bytes, for detection; they are parsed like the rest afterwards.
  const prefixChunks: Buffer[] = [];
  let prefixLength = 0;
  let sourceDone = false;
  try {
    while (prefixLength < sniffBytes) {
      const next = await input.next();
      if (next.done) {
        sourceDone = true;
        break;
      }
      const bytes = toBytes(next.value);
      prefixChunks.push(bytes);
      prefixLength += bytes.length;
    }
  } catch (error) {
    abandon();
    throw error;
  }
  report.bytes = prefixLength;
  const prefix = Buffer.concat(prefixChunks);

  let detected: DetectedEncoding;
  try {
    detected = options.encoding ? { encoding: options.encoding, bomLength: 0, basis: 'valid' } : detectEncoding(prefix, { complete: sourceDone });
  } catch (error) {
    abandon();
    throw error;
  }
  const decoder = createDecoder(detected);
  let prefixText = decoder.write(prefix.subarray(detected.bomLength)) + (sourceDone ? decoder.end() : '');
  // A byte-order mark given with an explicit encoding, or left over from a UTF-16 file.
  prefixText = prefixText.replace(/^\uFEFF/, '');
  if (sourceDone && prefixText.trim() === '') throw new CsvEmptyFileError();
  const delimiter = options.delimiter ?? detectDelimiter(prefixText);

  let sourceFinished = sourceDone;
  async function* text(): AsyncGenerator<string> {
    // A chunk never ends between the two halves of a surrogate pair, so re-encoding it is lossless.
    let heldBack = '';
    const emit = (chunk: string): string => {
      const joined = heldBack + chunk;
      const last = joined.charCodeAt(joined.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        heldBack = joined.slice(-1);
        return joined.slice(0, -1);
      }
      heldBack = '';
      return joined;
    };
    const first = emit(prefixText);
    if (first) yield first;
    if (!sourceDone) {
      while (true) {
        const next = await input.next();
        if (next.done) break;
        const bytes = toBytes(next.value);
        report.bytes += bytes.length;
        const chunk = emit(decoder.write(bytes));
        if (chunk) yield chunk;
      }
      sourceFinished = true;
      const tail = emit(decoder.end());
      if (tail) yield tail;
    }
    if (heldBack) yield heldBack;
    report.encoding = decoder.encoding;
    report.invalidSequences = decoder.invalidSequences;
  }

  // Records are scanned a decoded chunk at a time and handed out from there: no stream, and no
  // promise per record, between the bytes and the rows.
  const scanner = new CsvScanner(delimiter, maximumRecordCharacters);
  const chunks = text();
  let scanned: CsvRecord[] = [];
  let scannedIndex = 0;
  let textEnded = false;
  let released = false;
  /** Stops reading: the decoded text and the caller's source are let go. */
  const release = () => {
    if (released) return;
    released = true;
    options.signal?.removeEventListener('abort', release);
    void chunks.return(undefined).catch(() => {});
    if (!sourceFinished) abandon();
  };
  // Cancelling also frees a read that waits on a stalled source.
  if (options.signal?.aborted) {
    release();
    throw options.signal.reason;
  }
  options.signal?.addEventListener('abort', release, { once: true });

  /** Reads on until a record is complete; null at the end of the file. */
  const readRecord = async (): Promise<CsvRecord | null> => {
    while (scannedIndex >= scanned.length) {
      if (textEnded) return null;
      scanned = [];
      scannedIndex = 0;
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (error) {
        // A source destroyed because the read was cancelled fails with the cancellation's reason.
        options.signal?.throwIfAborted();
        throw error;
      }
      options.signal?.throwIfAborted();
      if (next.done) {
        textEnded = true;
        scanner.end(scanned);
      } else {
        scanner.write(next.value, scanned);
      }
    }
    return scanned[scannedIndex++]!;
  };
  const nextRecord = (): CsvRecord | null | Promise<CsvRecord | null> => (scannedIndex < scanned.length ? scanned[scannedIndex++]! : readRecord());

  let header: CsvRecord | null = null;
  try {
    for (let record = await nextRecord(); record; record = await nextRecord()) {
      if (!isBlank(record.values)) {
        header = record;
        break;
      }
    }
  } catch (error) {
    release();
    throw error;
  }
  if (!header) throw new CsvEmptyFileError();
  // Trailing empty header cells are a spreadsheet's habit, not columns.
  let width = header.values.length;
  while (width > 1 && header.values[width - 1]!.trim() === '') width -= 1;
  if (width > maximumColumns) {
    release();
    throw new CsvTooManyColumnsError(width, maximumColumns);
  }
  const columns = normaliseHeader(header.values.slice(0, width));
  const headerKey = columns.map((column) => column.header.toLowerCase()).join('\u0000');
  // Compared first, so a data row costs one comparison, not a copy of all its cells.
  const firstHeaderKey = columns[0]!.header.toLowerCase();
  // The same words, whatever their case, spacing or punctuation ("Phone Number", "phone_number").
  const headersByName = new Map<string, string[]>();
  for (const column of columns) {
    const words = headerWords(column.header).join('_');
    if (words) headersByName.set(words, [...(headersByName.get(words) ?? []), column.header]);
  }
  const duplicateHeaders = [...headersByName.values()].filter((headers) => headers.length > 1).map((headers) => headers[0]!);

  const recordIssue = (issue: CsvRowIssue) => {
    report.issueCount += 1;
    if (report.issues.length < maximumIssues) report.issues.push(issue);
    options.onIssue?.(issue);
  };

  let dataRowNumber = 0;
  /** A record as a row, or null when it is left out (blank, a repeated header, rejected). */
  const toRow = (record: CsvRecord): CsvRow | null => {
    const { values, line } = record;
    if (isBlank(values)) {
      report.blankRows += 1;
      return null;
    }
    if (values.length >= width && values[0]!.trim().toLowerCase() === firstHeaderKey && values.slice(0, width).map((value) => value.trim().toLowerCase()).join('\u0000') === headerKey && isBlank(values.slice(width))) {
      report.repeatedHeaders += 1;
      recordIssue({ code: 'REPEATED_HEADER', row: null, line, outcome: 'rejected', message: `Line ${line} repeats the header row; it was skipped.` });
      return null;
    }
    dataRowNumber += 1;
    const number = dataRowNumber;
    const reject = (issue: Omit<CsvRowIssue, 'row' | 'line' | 'outcome'>) => {
      report.rejectedRows += 1;
      recordIssue({ ...issue, row: number, line, outcome: 'rejected' });
      return null;
    };
    if (values.length > width && !isBlank(values.slice(width))) {
      return reject({
        code: 'EXTRA_CELLS',
        message: `Row ${number} (line ${line}) has ${values.length} cells but the header names ${width} columns, so its values cannot be matched to columns. A cell probably holds an unquoted "${delimiter === '\t' ? 'tab' : delimiter}": put that cell in double quotes.`,
      });
    }
    const tooLong = values.findIndex((value, index) => index < width && value.length > maximumCellCharacters);
    if (tooLong >= 0) {
      return reject({
        code: 'CELL_TOO_LONG',
        column: columns[tooLong]!.header,
        message: `Row ${number} (line ${line}): the "${columns[tooLong]!.header}" cell holds ${values[tooLong]!.length.toLocaleString('en-US')} characters; at most ${maximumCellCharacters.toLocaleString('en-US')} are allowed.`,
      });
    }
    let cells = values;
    if (values.length < width) {
      recordIssue({
        code: 'MISSING_CELLS',
        row: number,
        line,
        outcome: 'kept',
        message: `Row ${number} (line ${line}) has ${values.length} of ${width} cells; the missing ones were read as empty.`,
      });
      cells = [...values, ...Array.from({ length: width - values.length }, () => '')];
    } else if (values.length > width) {
      cells = values.slice(0, width);
    }
    report.rows += 1;
    return { number, line, values: cells };
  };

  const sample: CsvRow[] = [];
  let sampleCharacters = 0;
  let exhausted = false;
  try {
    while (sample.length < sampleSize && sampleCharacters < sampleCharacterBudget) {
      const record = await nextRecord();
      if (!record) {
        exhausted = true;
        break;
      }
      const row = toRow(record);
      if (!row) continue;
      sample.push(row);
      for (const value of row.values) sampleCharacters += value.length;
    }
  } catch (error) {
    release();
    throw error;
  }

  let started = false;
  const finish = () => {
    options.signal?.removeEventListener('abort', release);
    report.encoding = decoder.encoding;
    report.invalidSequences = decoder.invalidSequences;
    report.complete = true;
  };
  if (exhausted) finish();

  return {
    encoding: detected,
    delimiter,
    columns,
    duplicateHeaders,
    sample: sample.map((row) => row.values),
    suggestMapping: (mappingOptions) =>
      suggestColumnMapping(
        columns,
        sample.map((row) => row.values),
        mappingOptions,
      ),
    report,
    close: () => {
      if (!report.complete) release();
    },
    async *rows() {
      if (started) throw new Error('rows() streams the file once; it was already called');
      started = true;
      // Handed out before reading on, so the sample's memory goes with the consumer.
      while (sample.length > 0) yield sample.shift()!;
      if (exhausted) return;
      try {
        for (let record = await nextRecord(); record; record = await nextRecord()) {
          const row = toRow(record);
          if (row) yield row;
        }
        finish();
      } finally {
        // Also when the consumer stops early or fails: the source is released, not left paused.
        if (!report.complete) release();
      }
    },
  };
}
