import { type CsvReader, type CsvRowIssue, type LeadField } from '@gtm/csv';
import { stageCsv, type UploadHandler } from '@gtm/files';
import { JobStatus, type Job, type JobQueue } from '@gtm/jobs';
import { badUserInput, conflict, notFound } from '@gtm/runtime';
import type pg from 'pg';
import type { RequestedMapping } from './lead-import.entity.js';
import { createRowNormaliser, stagedColumns, type MappedColumn } from './lead-import.normalise.js';

export interface LeadImportUploadSettings {
  /** Connections for the COPY (a raw pg client: MikroORM has no COPY). */
  pool: pg.Pool;
  /** The service's schema. */
  schema: string;
  jobs: () => JobQueue;
}

/** Row errors of the reader kept per import (all are counted); enough for any screen that lists them. */
const maximumReaderErrors = 10_000;
/** Rows between two progress notes while a file streams in. */
const progressEvery = 50_000;

const normaliseHeader = (value: string) => value.trim().toLowerCase().replace(/\s+/g, ' ');

/** The detected mapping with the import's own statements on top (an error names a column the file lacks). */
export function resolveMapping(reader: CsvReader, requested: RequestedMapping[]): MappedColumn[] {
  const mapping: MappedColumn[] = reader.suggestMapping().map((suggestion) => ({ column: suggestion.column.header, field: suggestion.field, confidence: suggestion.field ? suggestion.confidence : 0 }));
  for (const statement of requested) {
    const wanted = normaliseHeader(statement.column);
    const index = reader.columns.findIndex((column) => normaliseHeader(column.header) === wanted || column.name === wanted);
    if (index < 0) {
      throw badUserInput(`The file has no column "${statement.column}" (columnMapping); its columns are ${reader.columns.map((column) => `"${column.header}"`).join(', ')}.`, undefined, { reason: 'UNKNOWN_COLUMN' });
    }
    // The field now belongs to this column only.
    for (const other of mapping) if (statement.field && other.field === statement.field) Object.assign(other, { field: null, confidence: 0 });
    mapping[index] = { column: reader.columns[index]!.header, field: statement.field as LeadField | null, confidence: 1 };
  }
  return mapping;
}

/**
 * Receives an import's file: streams it through the CSV reader and the row normaliser into a
 * staging table of its own with COPY, records the rows the reader refused, and adds the job's
 * task — all in one transaction, so a file that breaks off (or a client that disconnects) leaves
 * nothing behind and the same link can be used again.
 */
export function createLeadImportUpload(settings: LeadImportUploadSettings): UploadHandler {
  const schema = `"${settings.schema}"`;
  return async ({ caller, ticket, body, signal, logger }) => {
    const client = await settings.pool.connect();
    try {
      await client.query('begin');
      const found = await client.query<{ status: JobStatus; file_received_at: Date | null; column_mapping: RequestedMapping[] | null; default_country: string | null; kind: string; tenant_id: string }>(
        `select job.status, job.kind, job.tenant_id, lead_import.file_received_at, lead_import.column_mapping, lead_import.default_country
           from ${schema}.lead_import join ${schema}.job on job.id = lead_import.id
          where lead_import.id = $1 and job.tenant_id = $2 for update of job`,
        [ticket.resourceId, caller.tenantId],
      );
      const leadImport = found.rows[0];
      if (!leadImport) throw notFound('LeadImport', ticket.resourceId);
      if (leadImport.file_received_at) throw conflict('This import already has its file. Start a new import (importLeads) to upload another.');
      if (leadImport.status !== JobStatus.QUEUED) throw conflict(`This import has ended (${leadImport.status}); start a new one.`);

      const stagingTable = `lead_import_rows_${ticket.resourceId.replaceAll('-', '')}`;
      await client.query(
        `create unlogged table ${schema}."${stagingTable}" (row_number integer not null, line integer not null, cells jsonb not null, ${stagedColumns
          .map((column) => `${column} text`)
          .join(', ')})`,
      );
      const readerErrors: CsvRowIssue[] = [];
      let mapping: MappedColumn[] = [];
      let read = 0;
      const jobs = settings.jobs();
      const staged = await stageCsv({
        client,
        table: `${settings.schema}.${stagingTable}`,
        body,
        csv: {
          signal,
          onIssue: (issue) => {
            if (issue.outcome === 'rejected' && issue.row !== null && readerErrors.length < maximumReaderErrors) readerErrors.push(issue);
          },
        },
        derive: (reader) => {
          mapping = resolveMapping(reader, leadImport.column_mapping ?? []);
          const normalise = createRowNormaliser(reader.columns, mapping, leadImport.default_country);
          return {
            columns: [...stagedColumns],
            values: (row) => {
              read += 1;
              if (read % progressEvery === 0) {
                void jobs.publish({ ...progressJob(ticket.resourceId, caller.tenantId), total: read, message: `Reading the file: ${read} rows so far.` } as Job);
              }
              return normalise(row);
            },
          };
        },
      });
      const rowsRead = staged.rows + staged.rejectedRows;
      if (rowsRead === 0) throw badUserInput('The file has a header but no rows: there is nothing to import.', undefined, { csvCode: 'CSV_NO_ROWS' });
      if (readerErrors.length > 0) {
        await client.query(
          `insert into ${schema}.lead_import_error (import_id, row_number, column_name, message)
           select $1, row_number, column_name, message from unnest($2::integer[], $3::text[], $4::text[]) as error(row_number, column_name, message)`,
          [ticket.resourceId, readerErrors.map((issue) => issue.row), readerErrors.map((issue) => issue.column ?? null), readerErrors.map((issue) => issue.message)],
        );
      }
      const message = `File received: ${rowsRead} rows; merging.`;
      await client.query(
        `update ${schema}.lead_import set columns = $2, column_mapping = $3, encoding = $4, delimiter = $5, staging_table = $6, file_received_at = now(), rows_read = $7, rejected = $8 where id = $1`,
        [ticket.resourceId, JSON.stringify(staged.columns.map((column) => column.header)), JSON.stringify(mapping), staged.encoding, staged.delimiter, stagingTable, rowsRead, staged.rejectedRows],
      );
      const updated = await client.query<Job>(
        `update ${schema}.job set total = $2, message = $3, updated_at = now() where id = $1
         returning id, tenant_id as "tenantId", kind, status, total, completed, failed, message, subject_type as "subjectType", subject_id as "subjectId", updated_at as "updatedAt"`,
        [ticket.resourceId, rowsRead, message],
      );
      await jobs.enqueue((text, values) => client.query(text, values), updated.rows[0]!);
      await client.query('commit');
      await jobs.publish(updated.rows[0]!);
      logger.info({ rows: rowsRead, rejectedRows: staged.rejectedRows }, 'lead import staged');
      return { importId: ticket.resourceId, rows: rowsRead, rejectedRows: staged.rejectedRows, encoding: staged.encoding, delimiter: staged.delimiter };
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
}

/** What a progress note during the upload says about the job (the rest is as the job row has it). */
function progressJob(id: string, tenantId: string) {
  return { id, tenantId, kind: 'lead-import', status: JobStatus.QUEUED, completed: 0, failed: 0, updatedAt: new Date(), subjectType: 'LeadImport', subjectId: id };
}
