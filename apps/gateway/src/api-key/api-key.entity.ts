import type { Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { Scope, Tier } from '@gtm/caller';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Tenant } from './tenant.entity.js';

/**
 * An API key as stored: never the key itself, only its SHA-256 and a short public prefix to find
 * the row without scanning.
 */
@Entity({ tableName: 'api_key' })
export class ApiKey {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Tenant, { eager: true })
  tenant!: Tenant;

  /** The public part of the key (`gtm_<prefix>_…`): shown in listings, unique. */
  @Property({ type: 'text' })
  prefix!: string;

  /** Hex SHA-256 of the whole key. */
  @Property({ type: 'text', hidden: true })
  keyHash!: string;

  @Property({ type: 'text', nullable: true })
  name: string | null = null;

  @Property({ type: 'text' })
  tier!: Tier;

  @Property({ type: 'json' })
  scopes!: Scope[];

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;
}
