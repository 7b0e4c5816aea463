/**
 * Why a file cannot be read as CSV at all. Each error names what is wrong in words a user can act
 * on; none is retryable, because the same bytes fail the same way.
 */
export type CsvErrorCode =
  | 'CSV_EMPTY'
  | 'CSV_BINARY'
  | 'CSV_TOO_MANY_COLUMNS'
  | 'CSV_RECORD_TOO_LARGE'
  | 'CSV_UNCLOSED_QUOTE'
  | 'CSV_MALFORMED';

export class CsvError extends Error {
  override readonly name: string = 'CsvError';
  readonly isRetryable = false;
  constructor(
    readonly code: CsvErrorCode,
    message: string,
    /** The line of the file the problem was found on (1 = the first line), when known. */
    readonly line?: number,
  ) {
    super(message);
  }
}

/** The file has no bytes, or only a byte-order mark, blank lines and whitespace. */
export class CsvEmptyFileError extends CsvError {
  override readonly name = 'CsvEmptyFileError';
  constructor() {
    super('CSV_EMPTY', 'The file is empty: it needs a header row naming the columns, then one row per record.');
  }
}

/** The bytes are not text: a spreadsheet, an archive, an image. */
export class CsvBinaryFileError extends CsvError {
  override readonly name = 'CsvBinaryFileError';
  constructor(readonly detectedFormat: string | null) {
    super(
      'CSV_BINARY',
      detectedFormat
        ? `The file is ${detectedFormat}, not CSV text. Save or export it as CSV (comma-separated values) and upload that.`
        : 'The file is not text: it holds binary data. Save or export it as CSV (comma-separated values) and upload that.',
    );
  }
}

export class CsvTooManyColumnsError extends CsvError {
  override readonly name = 'CsvTooManyColumnsError';
  constructor(
    readonly columns: number,
    readonly maximumColumns: number,
  ) {
    super(
      'CSV_TOO_MANY_COLUMNS',
      `The header has ${columns.toLocaleString('en-US')} columns; at most ${maximumColumns.toLocaleString('en-US')} are supported. Remove the columns you do not need and upload again.`,
      1,
    );
  }
}

/**
 * One record is larger than the parser will hold. Almost always a quote that opens a cell and is
 * never closed, so the rest of the file runs into one cell.
 */
export class CsvRecordTooLargeError extends CsvError {
  override readonly name = 'CsvRecordTooLargeError';
  constructor(
    line: number,
    readonly maximumRecordCharacters: number,
  ) {
    super(
      'CSV_RECORD_TOO_LARGE',
      `The record starting near line ${line.toLocaleString('en-US')} is longer than ${maximumRecordCharacters.toLocaleString('en-US')} characters. ` +
        'This usually means a cell opens a double quote (") that is never closed; fix that quote (write a quote inside a cell as "") and upload again.',
      line,
    );
  }
}

export class CsvUnclosedQuoteError extends CsvError {
  override readonly name = 'CsvUnclosedQuoteError';
  constructor(line: number) {
    super(
      'CSV_UNCLOSED_QUOTE',
      `A double quote (") opened near line ${line.toLocaleString('en-US')} is never closed, so the file ends inside a cell. Close the quote (write a quote inside a cell as "") and upload again.`,
      line,
    );
  }
}

/** Any other structural problem the parser reports. */
export class CsvMalformedError extends CsvError {
  override readonly name = 'CsvMalformedError';
  constructor(line: number | undefined, detail: string) {
    super('CSV_MALFORMED', `The file is not valid CSV${line ? ` near line ${line.toLocaleString('en-US')}` : ''}: ${detail}`, line);
  }
}
