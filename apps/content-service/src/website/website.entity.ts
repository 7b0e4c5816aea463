import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

@Entity({ tableName: 'website' })
export class Website extends TenantScopedEntity {
  /** Normalised (normalizeWebsiteUrl): the federation key, unique per tenant. */
  @Property({ type: 'text' })
  url!: string;

  /** Host without `www.`, lower-case. */
  @Property({ type: 'text' })
  domain!: string;

  @Property({ type: 'text', nullable: true })
  title: string | null = null;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'text', nullable: true })
  summary: string | null = null;

  /** When the last analysis finished; null until a website has been analysed. */
  @Property({ type: 'datetime', nullable: true })
  analyzedAt: Date | null = null;
}
