import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import { Company } from '../company/company.entity.js';

export enum LeadStatus {
  NEW = 'NEW',
  CONTACTED = 'CONTACTED',
  ENGAGED = 'ENGAGED',
  QUALIFIED = 'QUALIFIED',
  DISQUALIFIED = 'DISQUALIFIED',
  CUSTOMER = 'CUSTOMER',
}

@Entity({ tableName: 'lead' })
export class Lead extends TenantScopedEntity {
  @Property({ type: 'text', nullable: true })
  firstName: string | null = null;

  @Property({ type: 'text', nullable: true })
  lastName: string | null = null;

  /** Stored lower-case; unique per tenant by its key (`email_key`: one per Gmail mailbox, lead-email-key.ts), so one person is one lead. */
  @Property({ type: 'text', nullable: true })
  email: string | null = null;

  @Property({ type: 'text', nullable: true })
  phone: string | null = null;

  @Property({ type: 'text', nullable: true })
  title: string | null = null;

  @ManyToOne(() => Company, { nullable: true, deleteRule: 'set null' })
  company: Company | null = null;

  @Enum({ items: () => LeadStatus, nativeEnumName: undefined })
  status: Opt<LeadStatus> = LeadStatus.NEW;

  /** Where the lead came from: `manual`, `csv-import`, a CRM's name. */
  @Property({ type: 'text' })
  source: Opt<string> = 'manual';

  @Property({ type: 'text', nullable: true })
  notes: string | null = null;

  /** Columns of an imported file that map to no field, by header: kept, never dropped. */
  @Property({ type: 'json' })
  customFields: Opt<Record<string, string>> = {};
}
