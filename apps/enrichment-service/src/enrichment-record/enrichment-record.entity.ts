import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

export enum EnrichmentRecordStatus {
  PENDING = 'PENDING',
  ENRICHED = 'ENRICHED',
  FAILED = 'FAILED',
}

/** One row of an enrichment job's list: what the user gave, and what enrichment found. */
@Entity({ tableName: 'enrichment_record' })
export class EnrichmentRecord extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  jobId!: string;

  /** 0-based place in the list; the order the worker goes through it. */
  @Property({ type: 'integer' })
  position!: number;

  @Property({ type: 'text', nullable: true })
  email: string | null = null;

  @Property({ type: 'text', nullable: true })
  companyName: string | null = null;

  @Property({ type: 'text', nullable: true })
  website: string | null = null;

  @Enum({ items: () => EnrichmentRecordStatus, nativeEnumName: undefined })
  status: Opt<EnrichmentRecordStatus> = EnrichmentRecordStatus.PENDING;

  /** The company's domain, from its website or else from a work email. */
  @Property({ type: 'text', nullable: true })
  domain: string | null = null;

  /** The website, normalised (https, lower-case host, no trailing slash). */
  @Property({ type: 'text', nullable: true })
  normalizedWebsite: string | null = null;

  /** Why enrichment failed, in words a user can act on. */
  @Property({ type: 'text', nullable: true })
  failureReason: string | null = null;
}
