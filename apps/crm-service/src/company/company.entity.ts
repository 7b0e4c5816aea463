import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

@Entity({ tableName: 'company' })
export class Company extends TenantScopedEntity {
  @Property({ type: 'text' })
  name!: string;

  /** Registrable host without `www.`, lower-case: the natural key for de-duplication. */
  @Property({ type: 'text', nullable: true })
  domain: string | null = null;

  @Property({ type: 'text', nullable: true })
  websiteUrl: string | null = null;

  @Property({ type: 'text', nullable: true })
  industry: string | null = null;

  @Property({ type: 'integer', nullable: true })
  employeeCount: number | null = null;

  @Property({ type: 'text', nullable: true })
  phone: string | null = null;

  @Property({ type: 'text', nullable: true })
  city: string | null = null;

  @Property({ type: 'text', nullable: true })
  region: string | null = null;

  @Property({ type: 'text', nullable: true })
  country: string | null = null;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;
}
