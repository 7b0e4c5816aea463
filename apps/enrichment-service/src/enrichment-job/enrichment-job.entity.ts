import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Job } from '@gtm/jobs';
import type { CampaignTargeting } from '../campaign-context/campaign-targeting.js';
import { allEnrichmentSteps, type EnrichmentStep } from '../enrichment-record/enrichment-results.js';

/** The `kind` of an enrichment job, and its worker task. */
export const enrichmentJobKind = 'enrichment';

/**
 * One enrichment run over a list of records. It is a job (status, counts, timestamps live in the
 * shared `job` table, decision 0014); this table adds what is particular to enrichment.
 */
@Entity({ tableName: 'enrichment_job' })
export class EnrichmentJob extends Job {
  override kind: Opt<string> = enrichmentJobKind;

  /** What the user calls it, typically the uploaded file's name. */
  @Property({ type: 'text' })
  name!: string;

  /** The campaign whose targeting steers personalisation and qualification. */
  @Property({ type: 'uuid', nullable: true })
  campaignId: string | null = null;

  /** The campaign's targeting as it was read when the job was created (campaign-service's API). */
  @Property({ type: 'json', nullable: true })
  campaign: CampaignTargeting | null = null;

  @Property({ type: 'text[]' })
  steps: Opt<EnrichmentStep[]> = [...allEnrichmentSteps];

  /** The most a record may cost; paid steps stop before going over. Null: no limit. */
  @Property({ type: 'double', nullable: true })
  budgetUsdPerRecord: number | null = null;

  /**
   * The caller's delegated token (decision 0070), sealed with the service's secrets key and bound
   * to the job: what the worker calls content-service with. Never shown, never logged.
   */
  @Property({ type: 'text', nullable: true, lazy: true })
  delegatedCallerToken: string | null = null;

  /** The row's columns in their order (an uploaded file's headers), for the export. */
  @Property({ type: 'text[]', nullable: true })
  columns: string[] | null = null;

  /** Where the records come from: given inline, an uploaded CSV file, or a lead list of crm-service. */
  @Property({ type: 'text' })
  source: Opt<EnrichmentJobSource> = EnrichmentJobSource.RECORDS;

  /** What each column of the file holds: as given at creation, then as used once the file arrived. */
  @Property({ type: 'json', nullable: true })
  columnMapping: ColumnMappingEntry[] | null = null;

  /** When the uploaded file was read into records; null while the job waits for it. */
  @Property({ type: 'datetime', nullable: true })
  fileReceivedAt: Date | null = null;

  /** The lead list (crm-service) whose leads are the records. */
  @Property({ type: 'uuid', nullable: true })
  leadListId: string | null = null;

  /** Leads of the list read into records so far: the job reads its list a page at a time. */
  @Property({ type: 'integer' })
  leadsRead: Opt<number> = 0;

  /** crm-service's cursor after the last page read, where a resumed job goes on. Null: from the start. */
  @Property({ type: 'text', nullable: true })
  leadListCursor: string | null = null;

  /** When the list was read to its end; null while the job is still reading it. */
  @Property({ type: 'datetime', nullable: true })
  leadListReadAt: Date | null = null;
}

export enum EnrichmentJobSource {
  RECORDS = 'RECORDS',
  UPLOAD = 'UPLOAD',
  LEAD_LIST = 'LEAD_LIST',
}

/** One column of a file and the lead field it holds (`@gtm/csv` field names), or null for none. */
export interface ColumnMappingEntry {
  column: string;
  field: string | null;
}
