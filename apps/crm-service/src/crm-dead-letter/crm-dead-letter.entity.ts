import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

export enum CrmSyncSide {
  /** Provider → here. */
  IMPORT = 'IMPORT',
  /** Here → provider. */
  EXPORT = 'EXPORT',
}

/**
 * A record that could not be synced for a reason retrying will not fix (the provider refused its
 * values, ours refused the provider's). Kept, with its error, until a replay succeeds; one open
 * dead letter per record, counting the attempts.
 */
@Entity({ tableName: 'crm_dead_letter' })
export class CrmDeadLetter extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  connectionId!: string;

  @Enum({ items: () => CrmSyncSide, nativeEnumName: undefined })
  direction!: CrmSyncSide;

  @Property({ type: 'text', nullable: true })
  externalId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  leadId: string | null = null;

  @Property({ type: 'text' })
  errorKind!: string;

  @Property({ type: 'text' })
  error!: string;

  @Property({ type: 'integer' })
  attempts: Opt<number> = 1;

  @Property({ type: 'uuid', nullable: true })
  syncRunId: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  resolvedAt: Date | null = null;
}
