import { isAscii, isUtf8 } from 'node:buffer';
import chardet from 'chardet';
import iconv from 'iconv-lite';
import { CsvBinaryFileError } from './csv-errors.js';

/**
 * What a file's bytes are, found from its first bytes. `utf-8` is the default whenever the bytes
 * allow it; `windows-1252` stands for Latin-1 too (it agrees with ISO-8859-1 on every printable
 * character, and Excel writes its extra ones: curly quotes, the euro sign, dashes).
 */
export interface DetectedEncoding {
  /** An encoding name iconv-lite knows: `utf-8`, `utf-16le`, `utf-16be`, `windows-1252`, … */
  encoding: string;
  /** Bytes of byte-order mark at the start of the file (skipped when decoding). */
  bomLength: number;
  /**
   * How the encoding was found: `bom` (a byte-order mark said so), `valid` (the bytes are valid
   * in it and in nothing more likely), `ascii` (only ASCII so far: UTF-8 until a byte says
   * otherwise), `guess` (chardet's statistical guess).
   */
  basis: 'bom' | 'valid' | 'ascii' | 'guess';
}

/** Magic numbers of files people upload by mistake instead of a CSV export. */
const knownBinaryFormats: Array<{ magic: number[]; format: string }> = [
  { magic: [0x50, 0x4b, 0x03, 0x04], format: 'a ZIP archive (an Excel .xlsx workbook is one)' },
  { magic: [0xd0, 0xcf, 0x11, 0xe0], format: 'an Excel 97-2003 workbook (.xls)' },
  { magic: [0x25, 0x50, 0x44, 0x46], format: 'a PDF document' },
  { magic: [0x89, 0x50, 0x4e, 0x47], format: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], format: 'a JPEG image' },
  { magic: [0x47, 0x49, 0x46, 0x38], format: 'a GIF image' },
  { magic: [0x1f, 0x8b], format: 'gzip-compressed data' },
  { magic: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65], format: 'an SQLite database' },
];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.length <= bytes.length && magic.every((byte, index) => bytes[index] === byte);
}

/** UTF-16 without a byte-order mark: text in Latin script has a zero in every other byte. */
function utf16WithoutBom(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const pairs = Math.floor(Math.min(bytes.length, 8192) / 2);
  if (pairs < 4) return null;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let pair = 0; pair < pairs; pair += 1) {
    if (bytes[pair * 2] === 0) zeroEven += 1;
    if (bytes[pair * 2 + 1] === 0) zeroOdd += 1;
  }
  if (zeroOdd / pairs > 0.4 && zeroEven / pairs < 0.05) return 'utf-16le';
  if (zeroEven / pairs > 0.4 && zeroOdd / pairs < 0.05) return 'utf-16be';
  return null;
}

/** Control characters no text file holds (tab, line feed, form feed, carriage return and SUB are allowed). */
function looksBinary(bytes: Uint8Array): boolean {
  const length = Math.min(bytes.length, 65536);
  let controls = 0;
  for (let index = 0; index < length; index += 1) {
    const byte = bytes[index]!;
    if (byte === 0) return true;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1a) controls += 1;
  }
  return length > 0 && controls / length > 0.01;
}

/** Where the last complete UTF-8 sequence ends, so a chunk boundary never splits a character. */
function completeUtf8Length(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let back = 1; back <= Math.min(4, length); back += 1) {
    const byte = bytes[length - back]!;
    if (byte < 0x80) return length;
    if (byte >= 0xc0) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return back < needed ? length - back : length;
    }
  }
  return length;
}

/** chardet's names for what iconv-lite calls windows-1252 (ISO-8859-1 is a subset of it for text). */
const westernEuropean = new Set(['iso-8859-1', 'windows-1252', 'ascii', 'utf-8']);

/**
 * Detects the encoding of a file from its first bytes (64 KiB are plenty). `complete` says the
 * prefix is the whole file, so a multi-byte character cut at its end is an error, not a boundary.
 * Throws CsvBinaryFileError when the bytes are not text.
 */
export function detectEncoding(prefix: Uint8Array, options: { complete?: boolean } = {}): DetectedEncoding {
  if (startsWith(prefix, [0xef, 0xbb, 0xbf])) return { encoding: 'utf-8', bomLength: 3, basis: 'bom' };
  if (startsWith(prefix, [0xff, 0xfe, 0x00, 0x00])) return { encoding: 'utf-32le', bomLength: 4, basis: 'bom' };
  if (startsWith(prefix, [0x00, 0x00, 0xfe, 0xff])) return { encoding: 'utf-32be', bomLength: 4, basis: 'bom' };
  if (startsWith(prefix, [0xff, 0xfe])) return { encoding: 'utf-16le', bomLength: 2, basis: 'bom' };
  if (startsWith(prefix, [0xfe, 0xff])) return { encoding: 'utf-16be', bomLength: 2, basis: 'bom' };
  const binaryFormat = knownBinaryFormats.find(({ magic }) => startsWith(prefix, magic));
  if (binaryFormat) throw new CsvBinaryFileError(binaryFormat.format);
  const utf16 = utf16WithoutBom(prefix);
  if (utf16) return { encoding: utf16, bomLength: 0, basis: 'valid' };
  if (looksBinary(prefix)) throw new CsvBinaryFileError(null);

  const checked = options.complete ? prefix : prefix.subarray(0, completeUtf8Length(prefix));
  if (isAscii(checked)) return { encoding: 'utf-8', bomLength: 0, basis: 'ascii' };
  if (isUtf8(checked)) return { encoding: 'utf-8', bomLength: 0, basis: 'valid' };

  // Not UTF-8: a legacy single- or double-byte encoding. chardet ranks candidates by statistics
  // of the text; a Western European guess (or none iconv knows) means windows-1252.
  const candidate = chardet
    .analyse(prefix)
    .map((match) => match.name.toLowerCase())
    .find((name) => !name.startsWith('utf') && iconv.encodingExists(name));
  const encoding = !candidate || westernEuropean.has(candidate) ? 'windows-1252' : candidate;
  return { encoding, bomLength: 0, basis: 'guess' };
}

/** Turns a file's bytes into text, chunk by chunk. */
export interface TextDecoderStream {
  write(chunk: Uint8Array): string;
  end(): string;
  /** What the text turned out to be: may change from `utf-8` to `windows-1252` (see createDecoder). */
  readonly encoding: string;
  /** Byte sequences that were not valid in the encoding and became U+FFFD. */
  readonly invalidSequences: number;
}

/**
 * UTF-8 while the bytes are UTF-8. A file whose first 64 KiB are plain ASCII can still hold a
 * Latin-1 "é" at row 5,000; at the first byte that is not UTF-8, when everything before was ASCII
 * (and so decoded the same in both), the rest is read as windows-1252. Once real multi-byte UTF-8
 * has been seen, an invalid byte is only that: U+FFFD, counted.
 */
class Utf8ThenWesternDecoder implements TextDecoderStream {
  encoding = 'utf-8';
  invalidSequences = 0;
  private carry: Buffer = Buffer.alloc(0);
  private sawMultiByte = false;
  private fallback: iconv.DecoderStream | null = null;

  constructor(private readonly fallbackAllowed: boolean) {}

  write(chunk: Uint8Array): string {
    if (this.fallback) return this.fallback.write(Buffer.from(chunk));
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const cut = completeUtf8Length(bytes);
    const head = bytes.subarray(0, cut);
    this.carry = Buffer.from(bytes.subarray(cut));
    if (isUtf8(head)) {
      if (!this.sawMultiByte && !isAscii(head)) this.sawMultiByte = true;
      return head.toString('utf8');
    }
    return this.notUtf8(bytes);
  }

  end(): string {
    if (this.fallback) return this.fallback.end() ?? '';
    if (this.carry.length === 0) return '';
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    // The file ends inside a multi-byte character.
    return isUtf8(rest) ? rest.toString('utf8') : this.notUtf8(rest, true);
  }

  private notUtf8(bytes: Buffer, atEnd = false): string {
    if (this.fallbackAllowed && !this.sawMultiByte) {
      this.encoding = 'windows-1252';
      this.carry = Buffer.alloc(0);
      this.fallback = iconv.getDecoder('windows-1252');
      const text = this.fallback.write(bytes);
      return atEnd ? text + (this.fallback.end() ?? '') : text;
    }
    const text = bytes.toString('utf8');
    this.invalidSequences += text.split('\uFFFD').length - 1;
    this.carry = Buffer.alloc(0);
    return text;
  }
}

class IconvDecoder implements TextDecoderStream {
  readonly invalidSequences = 0;
  private readonly decoder: iconv.DecoderStream;
  constructor(readonly encoding: string) {
    // The byte-order mark is skipped by the reader; a second one inside the text is data.
    this.decoder = iconv.getDecoder(encoding, { stripBOM: false });
  }
  write(chunk: Uint8Array): string {
    return this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  end(): string {
    return this.decoder.end() ?? '';
  }
}

/** A decoder for a detected encoding; feed it the bytes after the byte-order mark. */
export function createDecoder(detected: DetectedEncoding): TextDecoderStream {
  if (detected.encoding === 'utf-8') return new Utf8ThenWesternDecoder(detected.basis === 'ascii');
  return new IconvDecoder(detected.encoding);
}
