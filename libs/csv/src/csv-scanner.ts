import { CsvRecordTooLargeError, CsvUnclosedQuoteError } from './csv-errors.js';
import type { CsvDelimiter } from './delimiter.js';

/** One record as the file has it: its cells, and the line of the file it begins on (1 = first). */
export interface CsvRecord {
  values: string[];
  line: number;
}

const quote = 34;
const lineFeed = 10;
const carriageReturn = 13;

/** Line breaks in `text` between `from` and `to`: `\r\n`, `\n` and `\r` count one each. */
function lineBreaks(text: string, from: number, to: number): number {
  let breaks = 0;
  for (let at = text.indexOf('\n', from); at >= 0 && at < to; at = text.indexOf('\n', at + 1)) breaks += 1;
  for (let at = text.indexOf('\r', from); at >= 0 && at < to; at = text.indexOf('\r', at + 1)) if (text.charCodeAt(at + 1) !== lineFeed) breaks += 1;
  return breaks;
}

/**
 * Splits decoded CSV text into records, chunk by chunk, the way csv-parse does with
 * `relax_quotes`, `relax_column_count` and record delimiters `\r\n`, `\n` and `\r` (mixed in one
 * file as pasted-together exports have them): a cell that begins with `"` is quoted (`""` inside
 * is a quote; line breaks and delimiters are text); a quote anywhere else is text; a quoted cell
 * whose closing quote is followed by more text is read as written, its quotes included (unescaped
 * `""` inside it read as one), as csv-parse does. Line numbers count `\r\n` as one line break,
 * inside quoted cells too (csv-parse counts two there).
 *
 * It exists because csv-parse reads about 10 MB/s here (it re-encodes the text to bytes and
 * looks at every byte through its option checks), a third of a lead import's upload time; this
 * finds cell boundaries with `indexOf` and slices cells out of the text (decision 0086).
 *
 * Nothing is held beyond the record being read: a record longer than `maximumRecordCharacters`
 * (an unclosed quote swallowing the rest of the file, a file without line breaks) stops the scan
 * with CsvRecordTooLargeError; a quote still open at the end of the text is a CsvUnclosedQuoteError.
 */
export class CsvScanner {
  /** Text not yet made into cells: it begins where the cell being read begins. */
  private pending = '';
  /** Cells of the record being read that are complete. */
  private cells: string[] = [];
  private cellCharacters = 0;
  /** The line the record being read begins on, and the line its current cell begins on. */
  private recordLine = 1;
  private cellLine = 1;
  /** In a quoted cell that ran past the end of the text: where to look for its closing quote again. */
  private quotedSearchFrom = 0;

  constructor(
    private readonly delimiter: CsvDelimiter,
    private readonly maximumRecordCharacters: number,
  ) {}

  /** Reads the next piece of the text; complete records are appended to `records`. */
  write(text: string, records: CsvRecord[]): void {
    this.scan(this.pending.length === 0 ? text : this.pending + text, false, records);
  }

  /** The text has ended: the last record (when it has no line break after it) is appended. */
  end(records: CsvRecord[]): void {
    this.scan(this.pending, true, records);
    this.pending = '';
  }

  private tooLarge(): never {
    throw new CsvRecordTooLargeError(this.recordLine, this.maximumRecordCharacters);
  }

  private scan(text: string, final: boolean, records: CsvRecord[]): void {
    const length = text.length;
    const delimiter = this.delimiter;
    const delimiterCode = delimiter.charCodeAt(0);
    // Next delimiter, line feed and carriage return at or after the scan position (`length`: none).
    let nextDelimiter = -1;
    let nextLineFeed = -1;
    let nextCarriageReturn = -1;
    // Where unquoted text from `from` ends: the first delimiter or line break, each searched for
    // again only once the scan has passed the one found before.
    const unquotedEnd = (from: number): number => {
      if (nextDelimiter < from) nextDelimiter = indexOrLength(text, delimiter, from);
      if (nextLineFeed < from) nextLineFeed = indexOrLength(text, '\n', from);
      if (nextCarriageReturn < from) nextCarriageReturn = indexOrLength(text, '\r', from);
      return Math.min(nextDelimiter, nextLineFeed, nextCarriageReturn);
    };
    let cellStart = 0;
    for (;;) {
      let value: string;
      let position = cellStart;
      let lineBreaksWithin = 0;
      if (position < length && text.charCodeAt(position) === quote) {
        // A quoted cell: find the quote that closes it (`""` is a quote within it).
        let search = cellStart === 0 && this.quotedSearchFrom > 0 ? this.quotedSearchFrom : position + 1;
        let closing = -1;
        for (;;) {
          const found = text.indexOf('"', search);
          if (found < 0 || (found + 1 === length && !final)) break;
          if (text.charCodeAt(found + 1) === quote) {
            search = found + 2;
            continue;
          }
          closing = found;
          break;
        }
        if (closing < 0) {
          if (final) throw new CsvUnclosedQuoteError(this.recordLine);
          if (this.cellCharacters + (length - cellStart) > this.maximumRecordCharacters) this.tooLarge();
          this.pending = text.slice(cellStart);
          this.quotedSearchFrom = search - cellStart;
          return;
        }
        this.quotedSearchFrom = 0;
        value = text.slice(cellStart + 1, closing);
        if (value.includes('"')) value = value.replaceAll('""', '"');
        lineBreaksWithin = value.includes('\n') || value.includes('\r') ? lineBreaks(text, cellStart + 1, closing) : 0;
        position = closing + 1;
        const after = position < length ? text.charCodeAt(position) : -1;
        if (after !== -1 && after !== delimiterCode && after !== lineFeed && after !== carriageReturn) {
          // Text after the closing quote: the cell goes on unquoted, as csv-parse reads it.
          const end = unquotedEnd(position);
          if (end === length && !final) {
            if (this.cellCharacters + (length - cellStart) > this.maximumRecordCharacters) this.tooLarge();
            this.pending = text.slice(cellStart);
            return;
          }
          value = `"${value}"${text.slice(position, end)}`;
          position = end;
        }
      } else {
        const end = unquotedEnd(position);
        if (end === length && !final) {
          if (this.cellCharacters + (length - cellStart) > this.maximumRecordCharacters) this.tooLarge();
          this.pending = text.slice(cellStart);
          return;
        }
        if (end === length && cellStart === length && this.cells.length === 0) {
          // The text ended after a line break: no record is left.
          this.pending = '';
          return;
        }
        value = text.slice(position, end);
        position = end;
      }

      this.cellCharacters += value.length;
      if (this.cellCharacters > this.maximumRecordCharacters) this.tooLarge();
      this.cells.push(value);
      const terminator = position < length ? text.charCodeAt(position) : -1;
      if (terminator === delimiterCode) {
        this.cellLine += lineBreaksWithin;
        cellStart = position + 1;
        continue;
      }
      if (terminator === carriageReturn && position + 1 === length && !final) {
        // A `\n` may follow in the next piece: read this cell again with it.
        this.cells.pop();
        this.cellCharacters -= value.length;
        this.pending = text.slice(cellStart);
        return;
      }
      this.cellLine += lineBreaksWithin;
      records.push({ values: this.cells, line: this.recordLine });
      this.cells = [];
      this.cellCharacters = 0;
      this.recordLine = this.cellLine + 1;
      this.cellLine = this.recordLine;
      if (terminator === -1) {
        this.pending = '';
        return;
      }
      cellStart = terminator === carriageReturn && text.charCodeAt(position + 1) === lineFeed ? position + 2 : position + 1;
    }
  }
}

function indexOrLength(text: string, search: string, from: number): number {
  const found = text.indexOf(search, from);
  return found < 0 ? text.length : found;
}
