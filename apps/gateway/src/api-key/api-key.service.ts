import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { scopes as allScopes, tiers, type Scope, type Tier } from '@gtm/caller';
import { badUserInput, notFound, parseInput, type Database } from '@gtm/runtime';
import { z } from 'zod';
import { ApiKey } from './api-key.entity.js';
import { generateApiKey } from './api-key.format.js';
import { Tenant } from './tenant.entity.js';

const createKeySchema = z.object({
  tenant: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be 1 to 40 lower-case letters, digits or dashes, such as acme-corp'),
  tier: z.enum(tiers, { message: `must be one of ${tiers.join(', ')}` }),
  scopes: z.array(z.enum(allScopes, { message: `must be among ${allScopes.join(', ')}` })).min(1).default(['read', 'write']),
  name: z.string().trim().max(100).nullish(),
});

export type CreateKeyInput = z.input<typeof createKeySchema>;

/** A key as listed: everything but its hash. */
export interface ApiKeyListing {
  id: string;
  prefix: string;
  tenant: string;
  name: string | null;
  tier: Tier;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function listing(apiKey: ApiKey): ApiKeyListing {
  return {
    id: apiKey.id,
    prefix: apiKey.prefix,
    tenant: apiKey.tenant.slug,
    name: apiKey.name,
    tier: apiKey.tier,
    scopes: apiKey.scopes,
    createdAt: apiKey.createdAt,
    lastUsedAt: apiKey.lastUsedAt,
    revokedAt: apiKey.revokedAt,
  };
}

/** Tenants and their API keys: the gateway's own registry. */
export class ApiKeyService {
  constructor(private readonly database: Database) {}

  /** Creates a key (and its tenant on first use). The key itself is returned here and nowhere else. */
  async createKey(input: CreateKeyInput): Promise<{ key: string; apiKey: ApiKeyListing }> {
    const fields = parseInput(createKeySchema, input);
    const em = this.database.orm.em.fork();
    const tenant = await em.findOneOrFail(Tenant, await this.tenantIdFor(fields.tenant));
    const generated = generateApiKey();
    const apiKey = em.create(ApiKey, { tenant, prefix: generated.prefix, keyHash: generated.keyHash, tier: fields.tier, scopes: [...new Set(fields.scopes)], name: fields.name ?? null });
    await em.persist(apiKey).flush();
    return { key: generated.key, apiKey: listing(apiKey) };
  }

  /** The id of the tenant with this slug, created on first use. Two first keys at once still make one tenant. */
  private async tenantIdFor(slug: string): Promise<string> {
    const em = this.database.orm.em.fork();
    const existing = await em.findOne(Tenant, { slug });
    if (existing) return existing.id;
    try {
      await em.persist(em.create(Tenant, { slug })).flush();
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
    }
    return (await this.database.orm.em.fork().findOneOrFail(Tenant, { slug })).id;
  }

  async listKeys(tenantSlug?: string): Promise<ApiKeyListing[]> {
    const em = this.database.orm.em.fork();
    const keys = await em.find(ApiKey, tenantSlug ? { tenant: { slug: tenantSlug.toLowerCase() } } : {}, { orderBy: { createdAt: 'asc' } });
    return keys.map(listing);
  }

  /** Revokes by id or prefix. Every gateway process stops accepting it within its cache TTL. */
  async revokeKey(idOrPrefix: string): Promise<ApiKeyListing> {
    const em = this.database.orm.em.fork();
    const isId = /^[0-9a-f-]{36}$/i.test(idOrPrefix);
    if (!isId && !/^[A-Za-z0-9]{10}$/.test(idOrPrefix)) throw badUserInput('Give the key id or its 10-character prefix (as `apikey list` shows).', 'key');
    const apiKey = await em.findOne(ApiKey, isId ? { id: idOrPrefix } : { prefix: idOrPrefix });
    if (!apiKey) throw notFound('API key', idOrPrefix);
    apiKey.revokedAt ??= new Date();
    await em.flush();
    return listing(apiKey);
  }
}
