import type { EntityClass } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import type { EntityManager, TenantScopedEntity } from './database.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

/**
 * Loads entities by id, one query per batch however many ids a request asks for. Ids that are not
 * UUIDs, do not exist, or belong to another tenant (the tenant filter hides them) load as null.
 */
export function createEntityLoader<Entity extends TenantScopedEntity>(em: EntityManager, entityClass: EntityClass<Entity>): DataLoader<string, Entity | null> {
  return new DataLoader<string, Entity | null>(
    async (ids) => {
      const validIds = [...new Set(ids.filter(isUuid))];
      const rows = validIds.length === 0 ? [] : await em.find(entityClass, { id: { $in: validIds } } as never);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { maxBatchSize: 1_000 },
  );
}

/**
 * Loads, for each key, every entity whose `column` holds that key: one query per batch. For
 * one-to-many relations such as a lead's conversations.
 */
export function createGroupLoader<Entity extends TenantScopedEntity>(
  em: EntityManager,
  entityClass: EntityClass<Entity>,
  column: keyof Entity & string,
  options: {
    /** Default: newest first. */
    orderBy?: Record<string, 'asc' | 'desc'>;
    /** Keys failing this load as empty without a query. Default: UUIDs only. */
    isValidKey?: (key: string) => boolean;
  } = {},
): DataLoader<string, Entity[]> {
  const { orderBy = { createdAt: 'desc' }, isValidKey = isUuid } = options;
  return new DataLoader<string, Entity[]>(
    async (keys) => {
      const validKeys = [...new Set(keys.filter(isValidKey))];
      const rows = validKeys.length === 0 ? [] : await em.find(entityClass, { [column]: { $in: validKeys } } as never, { orderBy: orderBy as never });
      const groups = new Map<string, Entity[]>();
      for (const row of rows) {
        const key = String(row[column]);
        groups.set(key, [...(groups.get(key) ?? []), row]);
      }
      return keys.map((key) => groups.get(key) ?? []);
    },
    { maxBatchSize: 1_000 },
  );
}
