import { headerWords, leadFields, type ColumnMappingSuggestion, type CsvColumn, type LeadField } from '@gtm/csv';
import { badUserInput } from '@gtm/runtime';
import type { ColumnMappingEntry } from '../enrichment-job/enrichment-job.entity.js';
import type { NewRecord } from '../enrichment-record/record-insert.js';

/** A column of an uploaded file: the key its values are kept under in `input`, and what it holds. */
export interface FileColumn {
  /** The header as written; for a repeated or empty header, the CSV toolkit's unique name. */
  key: string;
  index: number;
  field: LeadField | null;
}

/** Fields a record can be enriched from: without one of them mapped, no row has anything to go on. */
const identifyingFields: readonly LeadField[] = ['companyName', 'website', 'domain', 'email', 'companyEmail'];

/** A header as a mapping names it: trimmed, case-insensitive. */
const wanted = (text: string) => text.trim().toLowerCase();

export const isLeadField = (field: string): field is LeadField => (leadFields as readonly string[]).includes(field);

/** The keys of a file's columns: the header itself, unless repeated or empty (then `dealer_name_2`, `column_5`). */
export function columnKeys(columns: readonly CsvColumn[]): string[] {
  const counts = new Map<string, number>();
  for (const column of columns) counts.set(column.header, (counts.get(column.header) ?? 0) + 1);
  return columns.map((column) => (column.header && counts.get(column.header) === 1 ? column.header : column.name));
}

/**
 * What each column holds: the detected suggestions, overridden by the mapping given at creation
 * (`columnMapping`, column by header). A given column the file does not have is refused, so a typo
 * never silently leaves a field unmapped; a field given to a column is taken from any other.
 */
export function resolveColumns(columns: readonly CsvColumn[], suggestions: readonly ColumnMappingSuggestion[], given: readonly ColumnMappingEntry[] | null): FileColumn[] {
  const keys = columnKeys(columns);
  const fields = new Map<number, LeadField | null>(suggestions.map((suggestion) => [suggestion.column.index, suggestion.field]));
  for (const entry of given ?? []) {
    const index = columns.findIndex((column, position) => wanted(column.header) === wanted(entry.column) || wanted(keys[position]!) === wanted(entry.column));
    if (index < 0) {
      throw badUserInput(
        `columnMapping names a column "${entry.column.slice(0, 100)}" that the file does not have. Its columns are: ${keys.slice(0, 60).join(', ')}.`,
        'columnMapping',
        { reason: 'UNKNOWN_COLUMN', column: entry.column.slice(0, 100) },
      );
    }
    const field = entry.field && isLeadField(entry.field) ? entry.field : null;
    if (field) for (const [other, held] of fields) if (held === field) fields.set(other, null);
    fields.set(index, field);
  }
  const resolved = columns.map((column, position) => ({ key: keys[position]!, index: column.index, field: fields.get(column.index) ?? null }));
  if (!resolved.some((column) => column.field && identifyingFields.includes(column.field))) {
    throw badUserInput(
      `No column of the file holds a company name, website, domain or email, so no row has anything to enrich from. Name one with columnMapping (for example { column: "${keys[0]?.slice(0, 60) ?? 'Company'}", field: "companyName" }).`,
      'columnMapping',
      { reason: 'NOTHING_TO_ENRICH', columns: keys.slice(0, 60) },
    );
  }
  return resolved;
}

/** Whether a column names a person rather than the company ("Owner Email", "Contact Phone"). */
export function namesPerson(column: FileColumn, columns: readonly FileColumn[]): boolean {
  if (/\b(owner|contact|ceo|president|principal|person|manager|founder)\b/.test(headerWords(column.key).join(' '))) return true;
  // A plain "Phone" beside a company phone column is the person's, and the same for email.
  if (column.field === 'phone') return columns.some((other) => other.field === 'companyPhone');
  if (column.field === 'email') return columns.some((other) => other.field === 'companyEmail');
  return false;
}

/** One row of the file as a record: its cells verbatim under their column keys, and the fields enrichment reads. */
export function recordOfRow(position: number, values: readonly string[], columns: readonly FileColumn[]): NewRecord {
  const input: Record<string, unknown> = {};
  const byField = new Map<LeadField, string>();
  for (const column of columns) {
    const value = values[column.index] ?? '';
    input[column.key] = value;
    const text = value.trim();
    if (column.field && text && !byField.has(column.field)) byField.set(column.field, text);
  }
  const field = (...names: LeadField[]) => names.map((name) => byField.get(name)).find((value) => value !== undefined) ?? null;
  const personPhone = columns.some((column) => column.field === 'companyPhone') ? field('phone') : null;
  const name = field('fullName') ?? ([field('firstName'), field('lastName')].filter(Boolean).join(' ') || null);
  return {
    position,
    input,
    email: field('email', 'companyEmail'),
    companyName: field('companyName'),
    website: field('website', 'domain'),
    // The company's own number confirms a website found by search; a person's only when there is no other.
    phone: field('companyPhone', 'phone'),
    address: field('street', 'address'),
    city: field('city'),
    region: field('state'),
    postalCode: field('postalCode'),
    country: field('country'),
    givenContact: name ? { name, title: field('title'), email: field('email'), phone: personPhone } : null,
  };
}
