import { exportCsv, headerWords, suggestColumnMapping, type CsvCell, type LeadField } from '@gtm/csv';
import type { DownloadHandler } from '@gtm/files';
import { notFound, type Database, type EntityManager } from '@gtm/runtime';
import { EnrichmentJob } from '../enrichment-job/enrichment-job.entity.js';
import { EnrichmentRecord } from '../enrichment-record/enrichment-record.entity.js';
import { isLeadField, namesPerson, type FileColumn } from './file-columns.js';

/** The purpose of an enrichment job's download ticket. */
export const enrichmentExportPurpose = 'enrichment-export';

/** Records read per query while the file streams out. */
const exportPageSize = 500;

/** The columns of records created inline, before any of their other columns (`fields`). */
const inlineColumns = ['companyName', 'website', 'email', 'phone', 'address', 'city', 'state', 'postalCode', 'country', 'contactName', 'contactTitle'];

/** One enriched value, and which column of the file it fills when the file already has one for it. */
interface EnrichedColumn {
  header: string;
  value: (record: EnrichmentRecord) => CsvCell;
  /** A column of the file this value belongs in (filled where the row left it empty). */
  fills?: (column: FileColumn, columns: readonly FileColumn[]) => boolean;
}

/**
 * How many of a record's ranked contacts (owner, chiefs, GM, VPs… first) the file carries, each as
 * numbered columns: a seller writes to the top one and keeps the next two as fall-backs.
 */
export const exportedContacts = 3;

const headerHas = (pattern: RegExp) => (column: FileColumn) => pattern.test(headerWords(column.key).join(' '));
const holds = (field: LeadField, person = false) => (column: FileColumn, columns: readonly FileColumn[]) => column.field === field && (!person || namesPerson(column, columns));
const nameParts = (name: string | undefined) => {
  const words = name?.trim().split(/\s+/) ?? [];
  return { first: words.length > 1 ? words.slice(0, -1).join(' ') : (words[0] ?? null), last: words.length > 1 ? words.at(-1)! : null };
};

const firstNameHeader = 'Contact 1 First Name';
const lastNameHeader = 'Contact 1 Last Name';
const nameHeader = 'Contact 1 Name';

/**
 * The columns of the contact ranked `number` (from 1). Only the first one fills the file's own
 * person columns (an empty "Owner Email" is the top contact's); the others are always appended,
 * so a file's one person column never takes a second person's details.
 */
function contactColumns(number: number): EnrichedColumn[] {
  const contact = (record: EnrichmentRecord) => record.contacts[number - 1];
  const fills = (fill: EnrichedColumn['fills']) => (number === 1 ? fill : undefined);
  return [
    { header: `Contact ${number} Name`, value: (record) => contact(record)?.name, fills: fills(holds('fullName')) },
    ...(number === 1
      ? [
          { header: firstNameHeader, value: (record: EnrichmentRecord) => nameParts(contact(record)?.name).first, fills: holds('firstName') },
          { header: lastNameHeader, value: (record: EnrichmentRecord) => nameParts(contact(record)?.name).last, fills: holds('lastName') },
        ]
      : []),
    { header: `Contact ${number} Title`, value: (record) => contact(record)?.title, fills: fills(holds('title')) },
    { header: `Contact ${number} Email`, value: (record) => contact(record)?.email, fills: fills(holds('email', true)) },
    { header: `Contact ${number} Phone`, value: (record) => contact(record)?.phone, fills: fills(holds('phone', true)) },
    { header: `Contact ${number} LinkedIn`, value: (record) => contact(record)?.linkedinUrl, fills: fills(holds('linkedinUrl', true)) },
  ];
}

const enrichedColumns: EnrichedColumn[] = [
  { header: 'Enriched Website', value: (record) => record.normalizedWebsite, fills: holds('website') },
  { header: 'Enriched Domain', value: (record) => record.domain, fills: holds('domain') },
  ...Array.from({ length: exportedContacts }, (_, index) => contactColumns(index + 1)).flat(),
  { header: 'Subject Line', value: (record) => record.personalization?.subject, fills: headerHas(/\bsubject\b/) },
  { header: 'Ice Breaker', value: (record) => record.personalization?.iceBreaker, fills: headerHas(/\bice ?breaker\b|\bopener\b/) },
  { header: 'Hot Button Topic', value: (record) => record.personalization?.hotButtonTopic, fills: headerHas(/\bhot button\b/) },
  { header: 'Qualification Score', value: (record) => record.qualification?.score },
  { header: 'Qualification Tier', value: (record) => record.qualification?.tier },
  { header: 'Qualification Reasoning', value: (record) => record.qualification?.reasoning },
  { header: 'Enrichment Status', value: (record) => record.status },
  { header: 'Failure Reason', value: (record) => record.failureReason },
  { header: 'Enrichment Cost USD', value: (record) => record.costUsd },
];

export interface ExportLayout {
  header: string[];
  cells(record: EnrichmentRecord): CsvCell[];
}

/**
 * The file a job's results download as: the original columns in their order, each row's cells as
 * given, then the enriched columns. Where the file already has a column for an enriched value (an
 * empty "Dealer Website URL", "Owner Email", "PERSONALIZED EMAIL SUBJECT LINE"), that column is
 * filled in the rows that left it empty — a value the row gave is never overwritten — and the
 * value is not appended a second time. First and last name columns are filled only as a pair.
 */
export function exportLayout(job: Pick<EnrichmentJob, 'columns' | 'columnMapping'>): ExportLayout {
  const keys = job.columns ?? inlineColumns;
  const mapped = new Map((job.columnMapping ?? suggestColumnMapping(keys).map((suggestion) => ({ column: suggestion.column.header, field: suggestion.field }))).map((entry) => [entry.column, entry.field]));
  const columns: FileColumn[] = keys.map((key, index) => {
    const field = mapped.get(key) ?? null;
    return { key, index, field: field && isLeadField(field) ? field : null };
  });
  const targets = new Map<EnrichedColumn, FileColumn>();
  const taken = new Set<FileColumn>();
  for (const enriched of enrichedColumns) {
    const target = columns.find((column) => !taken.has(column) && enriched.fills?.(column, columns));
    if (target) {
      targets.set(enriched, target);
      taken.add(target);
    }
  }
  // A first name alone would leave the surname to whoever is in the column beside it.
  const first = enrichedColumns.find((enriched) => enriched.header === firstNameHeader)!;
  const last = enrichedColumns.find((enriched) => enriched.header === lastNameHeader)!;
  if (!targets.has(first) || !targets.has(last)) {
    targets.delete(first);
    targets.delete(last);
  }
  // The name goes out once: in the file's own name column(s) when it has them, else appended whole.
  const nameFilled = targets.has(first) || targets.has(enrichedColumns.find((enriched) => enriched.header === nameHeader)!);
  const appended = enrichedColumns.filter((enriched) => !targets.has(enriched) && enriched !== first && enriched !== last && !(enriched.header === nameHeader && nameFilled));
  const existing = new Set(keys.map((key) => key.toLowerCase()));
  const header = [...keys, ...appended.map((enriched) => (existing.has(enriched.header.toLowerCase()) ? `${enriched.header} (enriched)` : enriched.header))];
  const filling = [...targets].map(([enriched, column]) => ({ enriched, index: column.index }));
  return {
    header,
    cells(record) {
      const cells: CsvCell[] = keys.map((key) => {
        const value = record.input[key];
        return value === undefined || value === null ? null : typeof value === 'object' ? JSON.stringify(value) : (value as CsvCell);
      });
      for (const { enriched, index } of filling) {
        const given = cells[index];
        if (given === null || given === undefined || String(given).trim() === '') cells[index] = enriched.value(record) ?? null;
      }
      for (const enriched of appended) cells.push(enriched.value(record) ?? null);
      return cells;
    },
  };
}

/** A job's records in list order, a page per query on a fresh EntityManager, read only as fast as the client downloads. */
async function* recordRows(em: EntityManager, jobId: string, layout: ExportLayout, signal: AbortSignal): AsyncGenerator<CsvCell[]> {
  for (let after = -1; !signal.aborted; ) {
    const page = await em.fork().find(EnrichmentRecord, { jobId, position: { $gt: after } }, { orderBy: { position: 'asc' }, limit: exportPageSize });
    for (const record of page) yield layout.cells(record);
    if (page.length < exportPageSize) return;
    after = page.at(-1)!.position;
  }
}

/** A file name from the job's name: its letters and digits, then `-enriched.csv`. */
function fileNameOf(name: string): string {
  const base = name.replace(/\.csv$/i, '').replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 100);
  return `${base || 'enrichment'}-enriched.csv`;
}

/**
 * `GET /files/enrichment/<ticket>` of `EnrichmentJob.downloadUrl`: the job's records as CSV,
 * formula-escaped by the CSV toolkit, streamed page by page from the database. A running job's
 * file holds what is done so far (the rest PENDING).
 */
export function createEnrichmentExportHandler(dependencies: { database: Database }): DownloadHandler {
  return async ({ caller, ticket, signal }) => {
    const em = dependencies.database.forkForTenant(caller.tenantId);
    const job = await em.findOne(EnrichmentJob, { id: ticket.resourceId });
    if (!job) throw notFound('EnrichmentJob', ticket.resourceId);
    const layout = exportLayout(job);
    return { fileName: fileNameOf(job.name), body: exportCsv(recordRows(em, job.id, layout, signal), { header: layout.header }) };
  };
}
