import { describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { CsvBinaryFileError } from './csv-errors.js';
import { createDecoder, detectEncoding } from './encoding.js';

const text = 'name,city,notes\nJosé Müller,Zürich,“smart” quotes – and €\nRenée Ødegård,Tromsø,plain\n';

function decodeAll(bytes: Buffer, chunkSize: number): { text: string; encoding: string } {
  const detected = detectEncoding(bytes, { complete: true });
  const decoder = createDecoder(detected);
  let decoded = '';
  const body = bytes.subarray(detected.bomLength);
  for (let offset = 0; offset < body.length; offset += chunkSize) decoded += decoder.write(body.subarray(offset, offset + chunkSize));
  decoded += decoder.end();
  return { text: decoded, encoding: decoder.encoding };
}

describe('detectEncoding', () => {
  it.each([
    ['UTF-8 with a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'utf-8', 'bom'],
    ['UTF-8 without one', Buffer.from(text), 'utf-8', 'valid'],
    ['UTF-16 LE with a byte-order mark', iconv.encode(text, 'utf-16le', { addBOM: true }), 'utf-16le', 'bom'],
    ['UTF-16 BE with a byte-order mark', iconv.encode(text, 'utf-16be', { addBOM: true }), 'utf-16be', 'bom'],
    ['UTF-16 LE without one', iconv.encode(text, 'utf-16le'), 'utf-16le', 'valid'],
    ['UTF-16 BE without one', iconv.encode(text, 'utf-16be'), 'utf-16be', 'valid'],
    ['windows-1252', iconv.encode(text, 'windows-1252'), 'windows-1252', 'guess'],
    ['ISO-8859-1 (read as windows-1252)', iconv.encode(text.replace(/[“”–€]/g, '-'), 'latin1'), 'windows-1252', 'guess'],
  ])('recognises %s and decodes it exactly, whatever the chunk boundaries', (_name, bytes, encoding, basis) => {
    const detected = detectEncoding(bytes, { complete: true });
    expect(detected).toMatchObject({ encoding, basis });
    const expected = encoding === 'windows-1252' && basis === 'guess' && !bytes.includes(0x93) ? text.replace(/[“”–€]/g, '-') : text;
    for (const chunkSize of [1, 3, 7, 4096]) expect(decodeAll(bytes, chunkSize).text).toBe(expected);
  });

  it('reads plain ASCII as UTF-8, and switches to windows-1252 at the first byte that is not UTF-8', () => {
    const asciiPart = 'name,city\n' + 'Smith,Boston\n'.repeat(10_000);
    const bytes = Buffer.concat([Buffer.from(asciiPart), iconv.encode('Müller,Zürich\n', 'windows-1252')]);
    const prefix = bytes.subarray(0, 65_536);
    expect(detectEncoding(prefix)).toMatchObject({ encoding: 'utf-8', basis: 'ascii' });
    const decoder = createDecoder(detectEncoding(prefix));
    let decoded = '';
    for (let offset = 0; offset < bytes.length; offset += 1000) decoded += decoder.write(bytes.subarray(offset, offset + 1000));
    decoded += decoder.end();
    expect(decoded.endsWith('Müller,Zürich\n')).toBe(true);
    expect(decoded).toHaveLength(asciiPart.length + 'Müller,Zürich\n'.length);
    expect(decoder.encoding).toBe('windows-1252');
  });

  it('keeps UTF-8 once real multi-byte characters were seen, counting a stray invalid byte', () => {
    const bytes = Buffer.concat([Buffer.from('name\nJosé\n'), Buffer.from([0xe9, 0x0a])]);
    const decoder = createDecoder({ encoding: 'utf-8', bomLength: 0, basis: 'ascii' });
    const decoded = decoder.write(bytes.subarray(0, 11)) + decoder.write(bytes.subarray(11)) + decoder.end();
    expect(decoded).toBe('name\nJosé\n\uFFFD\n');
    expect(decoder.encoding).toBe('utf-8');
    expect(decoder.invalidSequences).toBe(1);
  });

  it('does not take a UTF-8 character cut at the end of the sniffed prefix for an encoding error', () => {
    const bytes = Buffer.from('name\nJosé Renée');
    expect(detectEncoding(bytes.subarray(0, bytes.length - 1))).toMatchObject({ encoding: 'utf-8', basis: 'valid' });
  });

  it.each([
    ['an .xlsx workbook', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), /ZIP archive \(an Excel \.xlsx workbook is one\)/],
    ['an .xls workbook', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1]), /Excel 97-2003 workbook/],
    ['a PDF', Buffer.from('%PDF-1.7\n'), /PDF document/],
    ['gzip data', Buffer.from([0x1f, 0x8b, 0x08, 0x00]), /gzip-compressed/],
    ['random bytes with NULs', Buffer.from(Array.from({ length: 4096 }, (_value, index) => (index * 7919) % 256)), /not text: it holds binary data/],
  ])('refuses %s as binary with a message saying what to do', (_name, bytes, message) => {
    expect(() => detectEncoding(bytes, { complete: true })).toThrow(CsvBinaryFileError);
    expect(() => detectEncoding(bytes, { complete: true })).toThrow(message);
    expect(() => detectEncoding(bytes, { complete: true })).toThrow(/export it as CSV/);
  });
});
