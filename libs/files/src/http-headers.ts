/** The media type of a Content-Type header, lower-case, without parameters (`text/csv`). */
export function mediaTypeOf(contentType: string | undefined): string | null {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : null;
}

/** Whether an Accept-Encoding header accepts gzip (`gzip`, `x-gzip` or `*`, with a q-value above 0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let gzip: number | null = null;
  let wildcard: number | null = null;
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...parameters] = part.trim().toLowerCase().split(';');
    const qualityParameter = parameters.map((parameter) => parameter.trim()).find((parameter) => parameter.startsWith('q='));
    const quality = qualityParameter ? Number(qualityParameter.slice(2)) : 1;
    const value = Number.isFinite(quality) ? quality : 0;
    if (name === 'gzip' || name === 'x-gzip') gzip = value;
    else if (name === '*') wildcard = value;
  }
  return (gzip ?? wildcard ?? 0) > 0;
}

/**
 * `attachment` with the file name twice: an ASCII fallback for old clients, and the exact name
 * (RFC 6266 / RFC 8187 `filename*`) for the rest. Path separators, quotes and control characters
 * never reach the header.
 */
export function contentDisposition(fileName: string): string {
  // Letters and digits of any script, and what file names commonly hold; the rest becomes "_".
  const safe = fileName.replace(/[^\p{L}\p{N} ._()+,=@-]/gu, '_').replace(/^\.+/, '_').slice(0, 200) || 'download';
  const ascii = safe.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').replace(/[\\"]/g, '_') || 'download';
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
