import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import type { CrmLeadField } from '../crm-provider/field-mapping.js';

/** Lead field values as both sides last agreed on them. */
export type SyncedValues = Partial<Record<CrmLeadField, string | null>>;

/**
 * A lead here and its record at one connected CRM. `syncedValues` is what both sides held after the
 * last sync, written with every write we make: a field that differs from it on one side changed
 * there, and a provider record that comes back equal to it is the echo of our own write.
 */
@Entity({ tableName: 'crm_record_link' })
export class CrmRecordLink extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  connectionId!: string;

  @Property({ type: 'uuid' })
  leadId!: string;

  @Property({ type: 'text' })
  externalId!: string;

  @Property({ type: 'json' })
  syncedValues!: SyncedValues;

  /** The provider's modification time of the record as of the last sync (ours or theirs). */
  @Property({ type: 'datetime', nullable: true })
  remoteModifiedAt: Date | null = null;

  @Property({ type: 'datetime' })
  lastSyncedAt!: Date;
}
