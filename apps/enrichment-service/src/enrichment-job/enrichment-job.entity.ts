import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Job } from '@gtm/jobs';

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
}
