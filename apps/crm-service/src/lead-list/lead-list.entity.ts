import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

/** A named set of leads: one per import, or made by hand. Members are rows of `lead_list_member`. */
@Entity({ tableName: 'lead_list' })
export class LeadList extends TenantScopedEntity {
  @Property({ type: 'text' })
  name!: string;

  /** The import that made it, if one did. */
  @Property({ type: 'uuid', nullable: true })
  importId: string | null = null;

  /** The headers of the file it was imported from: the export's original columns. */
  @Property({ type: 'json' })
  columns: Opt<string[]> = [];
}
