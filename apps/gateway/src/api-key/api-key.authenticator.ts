import type { Scope, Tier } from '@gtm/caller';
import type { Database, Logger } from '@gtm/runtime';
import { LRUCache } from 'lru-cache';
import { ApiKey } from './api-key.entity.js';
import { hashApiKey, matchesHash, prefixOf } from './api-key.format.js';

/** What a valid key tells the gateway about its caller. */
export interface AuthenticatedKey {
  keyId: string;
  tenantId: string;
  tenantSlug: string;
  tier: Tier;
  scopes: Scope[];
}

export interface ApiKeyAuthenticatorOptions {
  database: Database;
  logger: Logger;
  /**
   * How long a lookup (found or not) is reused. Bounds how long a revoked key keeps working on a
   * process that saw it recently. Default: 4 000 ms, inside the 5 s the product promises.
   */
  cacheTtlMs?: number;
  /** Largest number of cached lookups; the least recently used go first. Default: 10 000. */
  cacheSize?: number;
  /** How often a key's last-used time is written at most. Default: 60 000 ms. */
  lastUsedIntervalMs?: number;
  now?: () => number;
}

/** A lookup, found or not (the cache holds objects, never null), and when it was read. */
interface CachedLookup {
  result: AuthenticatedKey | null;
  readAt: number;
}

/**
 * Turns a presented key into its caller. Lookups are cached by the key's hash (never the key), so
 * the cached path costs a hash and a map read; a malformed key is refused without a query.
 *
 * A key in steady use never makes a request wait for PostgreSQL: once half of an entry's cache
 * time has passed, the next request that uses it is answered from it and starts one read in the
 * background that replaces it. Without that, every entry expiring sent all the requests in flight
 * with that key to PostgreSQL at once, a stall every few seconds in the gateway's slowest
 * answers. An entry is still never served older than the cache time, so a revoked key stops
 * within it as before (sooner when the background read sees the revocation). Requests that find
 * no entry at the same moment wait for one read together.
 */
export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions) {
  const { database, logger } = options;
  const lastUsedIntervalMs = options.lastUsedIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheTtlMs = options.cacheTtlMs ?? 4_000;
  const refreshAfterMs = cacheTtlMs / 2;
  // lru-cache reads a ttl of 0 as "never expires": a cache time of 0 keeps nothing instead.
  const caching = cacheTtlMs > 0;
  const cache = new LRUCache<string, CachedLookup>({ max: cacheSize, ttl: caching ? cacheTtlMs : 1, perf: { now } });
  // Only while a read is under way: one per key hash, whoever asked first.
  const reading = new Map<string, Promise<AuthenticatedKey | null>>();
  // When each key's last use was written; bounded like the cache, an entry lives one interval.
  const lastUsedWritten = new LRUCache<string, true>({ max: cacheSize, ttl: Math.max(1, lastUsedIntervalMs), perf: { now } });

  async function lookUp(key: string): Promise<AuthenticatedKey | null> {
    const prefix = prefixOf(key);
    if (!prefix) return null;
    const apiKey = await database.orm.em.fork().findOne(ApiKey, { prefix, revokedAt: null });
    if (!apiKey || !matchesHash(key, apiKey.keyHash)) return null;
    return { keyId: apiKey.id, tenantId: apiKey.tenant.id, tenantSlug: apiKey.tenant.slug, tier: apiKey.tier, scopes: apiKey.scopes };
  }

  function read(cacheKey: string, key: string): Promise<AuthenticatedKey | null> {
    const pending = reading.get(cacheKey);
    if (pending) return pending;
    const readAt = now();
    const started = lookUp(key)
      .then((result) => {
        if (caching) cache.set(cacheKey, { result, readAt });
        return result;
      })
      .finally(() => reading.delete(cacheKey));
    reading.set(cacheKey, started);
    return started;
  }

  function recordUse(keyId: string): void {
    if (lastUsedWritten.has(keyId)) return;
    lastUsedWritten.set(keyId, true);
    database.orm.em
      .fork()
      .nativeUpdate(ApiKey, { id: keyId }, { lastUsedAt: new Date(now()) })
      .catch((error: unknown) => logger.warn({ err: error, keyId }, 'could not record a key’s last use'));
  }

  return {
    async authenticate(key: string | undefined): Promise<AuthenticatedKey | null> {
      if (!key || key.length > 200) return null;
      const cacheKey = hashApiKey(key);
      const cached = cache.get(cacheKey);
      let result: AuthenticatedKey | null;
      if (cached) {
        result = cached.result;
        if (now() - cached.readAt >= refreshAfterMs && !reading.has(cacheKey)) {
          // The entry answers until it expires; a failed read leaves it to do so.
          read(cacheKey, key).catch((error: unknown) => logger.warn({ err: error }, 'could not read an API key again; its cached lookup stays until it expires'));
        }
      } else {
        result = await read(cacheKey, key);
      }
      if (result) recordUse(result.keyId);
      return result;
    },

    /** Which of these keys exist and are not revoked, asked of the database (never the cache). */
    async stillValid(keyIds: string[]): Promise<Set<string>> {
      if (keyIds.length === 0) return new Set();
      const valid = await database.orm.em.fork().find(ApiKey, { id: { $in: keyIds }, revokedAt: null }, { fields: ['id'], populate: [] });
      return new Set(valid.map((apiKey) => apiKey.id));
    },
  };
}

export type ApiKeyAuthenticator = ReturnType<typeof createApiKeyAuthenticator>;
