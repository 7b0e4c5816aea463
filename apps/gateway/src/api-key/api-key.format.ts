import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

// gtm_<prefix: 10 url-safe chars>_<secret: 43 url-safe chars (32 random bytes)>
const keyPattern = /^gtm_([A-Za-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  /** The whole key: shown to its owner once, never stored. */
  key: string;
  prefix: string;
  keyHash: string;
}

// One call, without a Hash object: every request hashes its key to find its cached lookup.
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function generateApiKey(): NewApiKey {
  // The prefix avoids - and _ so a key splits on _ unambiguously and reads well in listings.
  const prefix = randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
  if (prefix.length < 10) return generateApiKey();
  const key = `gtm_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, keyHash: hashApiKey(key) };
}

/** The prefix of a well-formed key, or null: a malformed key is refused without a lookup. */
export function prefixOf(key: string): string | null {
  return keyPattern.exec(key)?.[1] ?? null;
}

/** Constant-time comparison of a presented key with a stored hash. */
export function matchesHash(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
