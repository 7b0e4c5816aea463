import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@gtm/runtime';
import { CompiledQuery } from 'kysely';
import type { GivenContact } from './enrichment-results.js';

/** A record about to be written: the row as given and the fields enrichment reads from it. */
export interface NewRecord {
  position: number;
  input: Record<string, unknown>;
  email: string | null;
  companyName: string | null;
  website: string | null;
  phone: string | null;
  address: string | null;
  city: string | null;
  region: string | null;
  postalCode: string | null;
  country: string | null;
  givenContact: GivenContact | null;
  leadId?: string | null;
}

/** Records written per statement: one round trip per thousand rows, not per row. */
export const recordInsertBatch = 1_000;

/** What PostgreSQL text and jsonb can hold: no NUL, no lone surrogate (a file can carry both). */
const surrogate = /[\uD800-\uDFFF]/;

function storable(value: unknown): unknown {
  // Almost no value has either; testing first spares two replacements per cell.
  if (typeof value !== 'string' || !(value.includes('\u0000') || surrogate.test(value))) return value;
  return value.replaceAll('\u0000', '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * Writes records of one job in one statement (`jsonb_to_recordset` over a JSON array), on the
 * caller's transaction: a file of 10,000 rows is ten statements. The tenant is the EntityManager's
 * scope, never the rows'.
 */
export async function insertRecords(em: EntityManager, tenantId: string, jobId: string, records: readonly NewRecord[]): Promise<void> {
  if (records.length === 0) return;
  const schema = em.config.get('schema');
  const now = new Date().toISOString();
  const rows = records.map((record) => ({
    id: randomUUID(),
    position: record.position,
    input: Object.fromEntries(Object.entries(record.input).map(([key, value]) => [storable(key), storable(value)])),
    email: storable(record.email),
    company_name: storable(record.companyName),
    website: storable(record.website),
    phone: storable(record.phone),
    address: storable(record.address),
    city: storable(record.city),
    region: storable(record.region),
    postal_code: storable(record.postalCode),
    country: storable(record.country),
    given_contact: record.givenContact,
    lead_id: record.leadId ?? null,
  }));
  // Through Kysely with bound parameters: MikroORM's `execute` inlines parameters into the SQL
  // text, escaping a 500 KB JSON literal character by character and making PostgreSQL parse it as
  // one; bound, the array travels as one value (about twice as fast, docs/BENCHMARKS.md).
  await em.getKysely().executeQuery(
    CompiledQuery.raw(
      `insert into "${schema}".enrichment_record
         (id, tenant_id, job_id, position, input, email, company_name, website, phone, address, city, region, postal_code, country, given_contact, lead_id, status, created_at, updated_at)
       select r.id, $1::uuid, $2::uuid, r.position, r.input, r.email, r.company_name, r.website, r.phone, r.address, r.city, r.region, r.postal_code, r.country, r.given_contact, r.lead_id, 'PENDING', $3::timestamptz, $3::timestamptz
       from jsonb_to_recordset($4::jsonb) as r(id uuid, position integer, input jsonb, email text, company_name text, website text, phone text, address text, city text, region text, postal_code text, country text, given_contact jsonb, lead_id uuid)`,
      [tenantId, jobId, now, JSON.stringify(rows)],
    ),
  );
}
