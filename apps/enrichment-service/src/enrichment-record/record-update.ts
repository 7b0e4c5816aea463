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

/** A processed record and what enriching it set on it. */
export interface ProcessedRecord {
  record: { id: string; tenantId: string };
  changes: RecordChanges;
}

/**
 * Writes what enrichment found on several records, on the caller's transaction: one bound update
 * for all the records that set the same fields (a group commit's records mostly do), their values
 * in one JSON array read by `jsonb_to_recordset` (a JSON null is SQL NULL, an array a text[]).
 * Raw SQL because it runs for every record of every job and MikroORM's query building cost more
 * than the statement; each record's tenant is a condition of it, as the ORM's filter would have made it.
 */
export async function updateRecords(em: EntityManager, processed: readonly ProcessedRecord[], now: Date): Promise<void> {
  const byFields = new Map<string, { fields: Array<keyof RecordChanges>; rows: Array<Record<string, unknown>> }>();
  for (const { record, changes } of processed) {
    const fields = (Object.keys(changes) as Array<keyof RecordChanges>).filter((field) => changes[field] !== undefined).toSorted();
    const row: Record<string, unknown> = { id: record.id, tenant_id: record.tenantId };
    for (const field of fields) row[columns[field].column] = changes[field];
    const key = fields.join(',');
    const same = byFields.get(key);
    if (same) same.rows.push(row);
    else byFields.set(key, { fields, rows: [row] });
  }
  const table = `"${em.config.get('schema')}".enrichment_record`;
  for (const { fields, rows } of byFields.values()) {
    const assigned = fields.map((field) => columns[field]);
    await em.getKysely().executeQuery(
      CompiledQuery.raw(
        `update ${table} as record set ${[...assigned.map(({ column }) => `${column} = changed.${column}`), 'updated_at = $2::timestamptz'].join(', ')}
           from jsonb_to_recordset($1::jsonb) as changed(${['id uuid', 'tenant_id uuid', ...assigned.map(({ column, as }) => `${column} ${as}`)].join(', ')})
          where record.id = changed.id and record.tenant_id = changed.tenant_id`,
        [JSON.stringify(rows), now.toISOString()],
      ),
    );
  }
}
