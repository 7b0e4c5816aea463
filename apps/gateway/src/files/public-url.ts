import type { Request } from 'express';

// A host name, IPv4 or bracketed IPv6 address, with an optional port: nothing a URL could be bent with.
const hostPattern = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The gateway's origin as the client reached it, for the file links services issue: PUBLIC_URL
 * when configured (behind a proxy that rewrites the Host), else the request's own scheme and Host.
 */
export function publicUrlOf(request: Request, configured: string | undefined): string | undefined {
  if (configured) return configured;
  const host = request.get('host');
  if (!host || !hostPattern.test(host)) return undefined;
  return `${request.protocol}://${host}`;
}
