import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

@Entity({ tableName: 'campaign' })
export class Campaign extends TenantScopedEntity {
  @Property({ type: 'text' })
  name!: string;

  /** Normalised with normalizeWebsiteUrl: the key content-service knows the `Website` by. */
  @Property({ type: 'text' })
  websiteUrl!: string;

  /** What the user told us about their offer, in their words; generation weighs it with the site. */
  @Property({ type: 'text', nullable: true })
  userContext: string | null = null;

  /**
   * Why the website could not be analysed the last time generation needed it, in words the user
   * can act on; null once an analysis succeeds.
   */
  @Property({ type: 'text', nullable: true })
  websiteError: string | null = null;
}
