import type { EntityManager } from '@gtm/runtime';
import { CompiledQuery } from 'kysely';
import type { EnrichmentRecord } from './enrichment-record.entity.js';

/** What enriching a record sets on it. */
export type RecordChanges = Partial<
  Pick<
    EnrichmentRecord,
    | 'status' | 'domain' | 'normalizedWebsite' | 'websiteSource' | 'websiteConfidence' | 'websiteEvidence' | 'websiteSummary' | 'emails' | 'phones'
    | 'contacts' | 'personalization' | 'qualification' | 'sources' | 'stepOutcomes' | 'costUsd' | 'failureReason'
  >
>;

// Each field enrichment writes: its column and how its value is bound.
const columns: { [Field in keyof Required<RecordChanges>]: { column: string; as: 'text' | 'float8' | 'jsonb' | 'text[]' } } = {
  status: { column: 'status', as: 'text' },
  domain: { column: 'domain', as: 'text' },
  normalizedWebsite: { column: 'normalized_website', as: 'text' },
  websiteSource: { column: 'website_source', as: 'text' },
  websiteConfidence: { column: 'website_confidence', as: 'float8' },
  websiteEvidence: { column: 'website_evidence', as: 'jsonb' },
  websiteSummary: { column: 'website_summary', as: 'text' },
  emails: { column: 'emails', as: 'text[]' },
  phones: { column: 'phones', as: 'text[]' },
  contacts: { column: 'contacts', as: 'jsonb' },
  personalization: { column: 'personalization', as: 'jsonb' },
  qualification: { column: 'qualification', as: 'jsonb' },
  sources: { column: 'sources', as: 'jsonb' },
  stepOutcomes: { column: 'step_outcomes', as: 'jsonb' },
  costUsd: { column: 'cost_usd', as: 'float8' },
  failureReason: { column: 'failure_reason', as: 'text' },
};

/**
 * Writes what enrichment found on one record, on the caller's transaction, as one bound update.
 * Raw SQL because it runs for every record of every job and MikroORM's query building cost more
 * than the statement; the tenant is a condition of it, as the ORM's filter would have made it.
 */
export async function updateRecord(em: EntityManager, record: { id: string; tenantId: string }, changes: RecordChanges, now: Date): Promise<void> {
  const assignments: string[] = [];
  const values: unknown[] = [record.id, record.tenantId, now.toISOString()];
  for (const [field, value] of Object.entries(changes) as Array<[keyof RecordChanges, unknown]>) {
    if (value === undefined) continue;
    const { column, as } = columns[field];
    values.push(as === 'jsonb' && value !== null ? JSON.stringify(value) : value);
    assignments.push(`${column} = $${values.length}::${as}`);
  }
  await em
    .getKysely()
    .executeQuery(
      CompiledQuery.raw(`update "${em.config.get('schema')}".enrichment_record set ${[...assignments, 'updated_at = $3::timestamptz'].join(', ')} where id = $1::uuid and tenant_id = $2::uuid`, values),
    );
}
