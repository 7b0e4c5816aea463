import type { Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** A customer organisation: every row in every service carries one tenant's id. */
@Entity({ tableName: 'tenant' })
export class Tenant {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** Short, URL-safe, unique name used on the command line (`--tenant acme`). */
  @Property({ type: 'text' })
  slug!: string;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
