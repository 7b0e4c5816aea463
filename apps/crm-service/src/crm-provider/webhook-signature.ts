import { createHash, timingSafeEqual } from 'node:crypto';
import type { InboundWebhook } from './crm-provider.js';

const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();

/**
 * Compares two secrets (signatures, passwords) in constant time. Both are hashed first, so their
 * lengths are equal and the comparison's duration says nothing about either, length included.
 */
export function equalSecrets(given: Buffer | string, expected: Buffer | string): boolean {
  const same = timingSafeEqual(digest(given), digest(expected));
  return same && Buffer.from(given).length === Buffer.from(expected).length;
}

/** A request header, whatever case it arrived in. */
export function headerOf(request: InboundWebhook, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [header, value] of Object.entries(request.headers)) if (header.toLowerCase() === lower) return value;
  return undefined;
}
