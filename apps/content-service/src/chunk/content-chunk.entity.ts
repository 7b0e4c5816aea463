import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

/**
 * A passage of a website, cut at its headings: the unit search ranks and campaigns cite. The table
 * also has a generated `search_vector` column, left unmapped: only the search SQL reads it.
 */
@Entity({ tableName: 'content_chunk' })
export class ContentChunk extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  websiteId!: string;

  @Property({ type: 'text' })
  pageUrl!: string;

  /** The innermost heading above the passage (the page title when there is none). */
  @Property({ type: 'text' })
  heading!: string;

  @Property({ type: 'text[]' })
  headingPath!: string[];

  /** The heading path as one string (`A › B`), which the generated search vector indexes. */
  @Property({ type: 'text' })
  headingTrail!: string;

  @Property({ type: 'text' })
  text!: string;

  @Property({ type: 'integer' })
  position!: number;

  @Property({ type: 'integer' })
  wordCount!: number;
}
