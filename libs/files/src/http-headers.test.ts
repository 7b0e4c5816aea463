import { describe, expect, it } from '@jest/globals';
import { acceptsGzip, contentDisposition, mediaTypeOf } from './http-headers.js';

describe('http headers', () => {
  it.each([
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8', true],
    ['gzip;q=0', false],
    ['*', true],
    ['*;q=0.5, gzip;q=0', false],
    ['identity', false],
    ['', false],
  ])('Accept-Encoding %j accepts gzip: %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('names the file for old and new clients without letting a quote, path or line break through', () => {
    expect(contentDisposition('Leads – Zürich.csv')).toBe(`attachment; filename="Leads _ Zurich.csv"; filename*=UTF-8''Leads%20_%20Z%C3%BCrich.csv`);
    expect(contentDisposition('../../etc/"passwd"\r\nX-Evil: 1')).toBe(`attachment; filename="__.._etc__passwd___X-Evil_ 1"; filename*=UTF-8''__.._etc__passwd___X-Evil_%201`);
  });

  it('reads the media type of a Content-Type', () => {
    expect(mediaTypeOf('Text/CSV; charset=utf-8')).toBe('text/csv');
    expect(mediaTypeOf(undefined)).toBeNull();
  });
});
