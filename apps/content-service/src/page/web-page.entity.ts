import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import type { PageKind } from '../crawl/page-kind.js';

/** One page an analysis read; replaced as a whole by the next analysis of its website. */
@Entity({ tableName: 'web_page' })
export class WebPage extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  websiteId!: string;

  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'text', nullable: true })
  title: string | null = null;

  @Property({ type: 'text' })
  kind!: PageKind;

  @Property({ type: 'integer' })
  wordCount!: number;

  /** Reading order: the home page first, then as planned. */
  @Property({ type: 'integer' })
  position!: number;
}
