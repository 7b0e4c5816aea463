import { LockMode } from '@mikro-orm/core';
import { CsvError, openCsv, type CsvReader } from '@gtm/csv';
import type { UploadHandler } from '@gtm/files';
import { JobStatus, type JobQueue } from '@gtm/jobs';
import { badUserInput, conflict, notFound, type Database } from '@gtm/runtime';
import { EnrichmentJob, EnrichmentJobSource } from '../enrichment-job/enrichment-job.entity.js';
import { insertRecords, recordInsertBatch, type NewRecord } from '../enrichment-record/record-insert.js';
import { recordOfRow, resolveColumns } from './file-columns.js';

/** The purpose of an enrichment job's upload ticket (and of the file route's handler). */
export const enrichmentUploadPurpose = 'enrichment-upload';

/** Most rows one file may hold (a job's `total` allows no more). */
export const maximumFileRows = 1_000_000;

/** A CSV the toolkit could not read, as the API's error: BAD_USER_INPUT with the toolkit's code and line. */
function readable(error: unknown): unknown {
  if (error instanceof CsvError) return badUserInput(error.message, undefined, { reason: 'UNREADABLE_CSV', csvCode: error.code, ...(error.line ? { line: error.line } : {}) });
  return error;
}

function assertAwaitingFile(job: EnrichmentJob): void {
  if (job.source !== EnrichmentJobSource.UPLOAD) throw badUserInput(`Enrichment job ${job.id} takes no file: it was created with ${job.source === EnrichmentJobSource.LEAD_LIST ? 'a lead list' : 'its records'}.`);
  if (job.fileReceivedAt) {
    throw conflict(`The file of enrichment job ${job.id} already arrived (${job.total} rows); create a new job to enrich another file.`, { reason: 'FILE_ALREADY_RECEIVED' });
  }
  if (job.status !== JobStatus.QUEUED) throw conflict(`Enrichment job ${job.id} is ${job.status}; it takes no file any more.`, { reason: 'JOB_NOT_WAITING' });
}

/**
 * `PUT /files/enrichment/<ticket>` of an enrichment job created with `upload: true`: the CSV is
 * read as a stream (encoding and delimiter detected), each row becomes a record with its cells
 * kept verbatim, written a thousand per statement, and the job is submitted — all in one
 * transaction, so a file that breaks off (the client went away, a quote never closed) leaves no
 * record and the job still waiting for its file, and the same link can be used again.
 */
export function createEnrichmentUploadHandler(dependencies: { database: Database; jobs: JobQueue }): UploadHandler {
  return async ({ caller, ticket, body, signal, logger }) => {
    const em = dependencies.database.forkForTenant(caller.tenantId);
    const jobId = ticket.resourceId;
    const waiting = await em.findOne(EnrichmentJob, { id: jobId });
    if (!waiting) throw notFound('EnrichmentJob', jobId);
    assertAwaitingFile(waiting);
    let reader: CsvReader;
    try {
      reader = await openCsv(body, { signal });
    } catch (error) {
      throw readable(error);
    }
    try {
      const columns = resolveColumns(reader.columns, reader.suggestMapping(), waiting.columnMapping);
      const job = await dependencies.jobs.submit(em, async (transaction) => {
        // Locked: two uploads with two links of one job cannot both add records.
        const locked = await transaction.findOneOrFail(EnrichmentJob, { id: jobId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
        assertAwaitingFile(locked);
        let position = 0;
        let batch: NewRecord[] = [];
        for await (const row of reader.rows()) {
          if (position >= maximumFileRows) throw badUserInput(`The file has more than ${maximumFileRows.toLocaleString('en-US')} rows; split it into several jobs.`, undefined, { reason: 'TOO_MANY_ROWS', maximumRows: maximumFileRows });
          batch.push(recordOfRow(position, row.values, columns));
          position += 1;
          if (batch.length >= recordInsertBatch) {
            await insertRecords(transaction, caller.tenantId, jobId, batch);
            batch = [];
          }
        }
        await insertRecords(transaction, caller.tenantId, jobId, batch);
        if (position === 0) throw badUserInput('The file has a header but no rows to enrich.', undefined, { reason: 'NO_ROWS' });
        locked.total = position;
        locked.columns = columns.map((column) => column.key);
        locked.columnMapping = columns.map((column) => ({ column: column.key, field: column.field }));
        locked.fileReceivedAt = new Date();
        return locked;
      });
      logger.info({ jobId, rows: job.total, rejectedRows: reader.report.rejectedRows }, 'enrichment file read; job submitted');
      return {
        jobId,
        rows: job.total,
        rejectedRows: reader.report.rejectedRows,
        issues: reader.report.issues.slice(0, 20),
        encoding: reader.report.encoding,
        delimiter: reader.delimiter,
        columnMapping: job.columnMapping,
      };
    } catch (error) {
      reader.close();
      throw readable(error);
    }
  };
}
