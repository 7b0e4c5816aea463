import { leadFields, type LeadField } from '@gtm/csv';
import { isSupportedCountry } from 'libphonenumber-js/min';
import { uploadLink, type FileTickets } from '@gtm/files';
import { isTerminal, JobStatus, terminalJobStatuses, type JobQueue } from '@gtm/jobs';
import { badUserInput, conflict, isUuid, notFound, type Database, type Logger, type SubgraphContext } from '@gtm/runtime';
import type { CrmLoaders } from '../loaders.js';
import { importTables } from './lead-import.merge.js';
import { LeadImport, type RequestedMapping } from './lead-import.entity.js';
import { LeadMergeRule, type ImportLeadsInput } from './lead-import.input.js';
import type { MappedColumn } from './lead-import.normalise.js';
import type { ImportRowErrorType, LeadImportType } from './lead-import.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

/** The upload purpose of an import's file, and the service its tickets name. */
export const leadImportUpload = { service: 'crm', purpose: 'lead-import' } as const;

export interface LeadImportServiceSettings {
  tickets: FileTickets;
  jobs: () => JobQueue;
  /** The largest file an import takes. */
  maxBytes: number;
}

const maximumErrorsListed = 1_000;

/** Starts imports (jobs waiting for their file), shows them, cancels them. */
export class LeadImportService {
  constructor(private readonly settings: LeadImportServiceSettings) {}

  async start(context: CrmContext, input: ImportLeadsInput): Promise<LeadImport> {
    const fileName = input.fileName.trim();
    if (!fileName || fileName.length > 255) throw badUserInput('fileName must be 1 to 255 characters.', 'fileName');
    const listName = input.listName?.trim() || fileName;
    if (listName.length > 255) throw badUserInput('listName must be at most 255 characters.', 'listName');
    const requested: RequestedMapping[] = [];
    for (const [index, mapping] of (input.columnMapping ?? []).entries()) {
      const column = mapping.column.trim();
      if (!column) throw badUserInput(`columnMapping[${index}].column is empty.`, `columnMapping.${index}.column`);
      if (mapping.field !== null && !leadFields.includes(mapping.field as LeadField)) {
        throw badUserInput(`columnMapping[${index}].field "${mapping.field}" is not a lead field; use one of ${leadFields.join(', ')}, or null to keep the column as a custom field.`, `columnMapping.${index}.field`);
      }
      requested.push({ column, field: mapping.field });
    }
    const country = input.country?.trim().toUpperCase() || null;
    if (country && !isSupportedCountry(country)) throw badUserInput(`country "${input.country}" is not an ISO 3166 country code such as US or GB.`, 'country');
    const leadImport = context.em.create(LeadImport, {
      defaultCountry: country,
      tenantId: context.caller.tenantId,
      fileName,
      listName,
      overwrite: input.dedupe === LeadMergeRule.OVERWRITE,
      columnMapping: requested,
      status: JobStatus.QUEUED,
      message: 'Waiting for the file.',
    });
    leadImport.subjectType = 'LeadImport';
    leadImport.subjectId = leadImport.id;
    await context.em.persist(leadImport).flush();
    // Its worker task is added when the file has arrived; until then its progress is published here.
    await this.settings.jobs().publish(leadImport);
    return leadImport;
  }

  async get(context: CrmContext, id: string): Promise<LeadImport | null> {
    if (!isUuid(id)) return null;
    return context.em.findOne(LeadImport, { id });
  }

  async cancel(context: CrmContext, id: string): Promise<LeadImport> {
    const result = await this.settings.jobs().cancel(context.em, LeadImport, id);
    if (!result) throw notFound('LeadImport', id);
    if (!result.cancelled) throw conflict(`LeadImport ${id} has already ended (${result.job.status}).`);
    await discardStaging(context, result.job);
    return result.job;
  }

  view(context: CrmContext, leadImport: LeadImport): LeadImportType {
    const waiting = leadImport.status === JobStatus.QUEUED && !leadImport.fileReceivedAt;
    return {
      id: leadImport.id,
      status: leadImport.status,
      fileName: leadImport.fileName,
      uploadUrl: waiting
        ? uploadLink(this.settings.tickets, context, { ...leadImportUpload, resourceId: leadImport.id, maxBytes: this.settings.maxBytes }).url
        : null,
      columnMapping: leadImport.fileReceivedAt ? ((leadImport.columnMapping ?? []) as MappedColumn[]) : [],
      total: leadImport.rowsRead,
      imported: leadImport.imported,
      merged: leadImport.merged,
      rejected: leadImport.rejected,
      leadsUpdated: leadImport.leadsUpdated,
      message: leadImport.message,
      createdAt: leadImport.createdAt,
      finishedAt: leadImport.finishedAt,
    };
  }

  async errors(context: CrmContext, leadImportId: string, first: number): Promise<ImportRowErrorType[]> {
    if (!Number.isInteger(first) || first < 0 || first > maximumErrorsListed) throw badUserInput(`first must be between 0 and ${maximumErrorsListed}.`, 'first');
    const table = importTables(context.em);
    const rows = await context.em.execute<Array<{ row_number: number; column_name: string | null; message: string }>>(
      `select row_number, column_name, message from ${table.error} where import_id = ? order by row_number limit ?`,
      [leadImportId, first],
    );
    return rows.map((row) => ({ row: row.row_number, column: row.column_name, message: row.message }));
  }
}

/**
 * Drops a finished or cancelled import's staged rows. A merge still running holds the table; it
 * rolls back on seeing the cancellation and the table stays until the sweep (`sweepEndedImportStaging`).
 */
export async function discardStaging(context: { em: CrmContext['em'] }, leadImport: LeadImport): Promise<void> {
  if (!leadImport.stagingTable || !isTerminal(leadImport.status)) return;
  await dropStaging(context.em, leadImport.id, leadImport.stagingTable).catch(() => {
    // Busy: the merge's transaction has it; nothing else reads it once the import has ended.
  });
}

/** The graphile-worker task, run on a schedule, that drops what ended imports left behind. */
export const leadImportSweepTask = 'crm:lead-import-sweep';

/**
 * Drops the staged rows of every import that has ended but still has them: one cancelled while its
 * merge was running (the merge held the table when `cancel` tried), or one whose merge failed its
 * last attempt. Each table is dropped in a transaction of its own that waits at most two seconds
 * for its lock; a table still held is left for the next sweep. Runs on every crm worker
 * (scheduled, once per due time across them); an import another sweep is on is skipped.
 */
export async function sweepEndedImportStaging(database: Database, logger: Logger): Promise<{ dropped: number; busy: number }> {
  const em = database.orm.em.fork();
  const table = importTables(em);
  const ended = await em.execute<Array<{ id: string; staging_table: string }>>(
    `select lead_import.id, lead_import.staging_table from ${table.leadImport} lead_import join ${table.schema}.job on job.id = lead_import.id
      where lead_import.staging_table is not null and job.status in (${terminalJobStatuses.map(() => '?').join(', ')})`,
    [...terminalJobStatuses],
  );
  let dropped = 0;
  let busy = 0;
  for (const leftover of ended) {
    try {
      if (await dropStaging(em, leftover.id, leftover.staging_table)) dropped += 1;
    } catch (error) {
      busy += 1;
      logger.warn({ err: error, importId: leftover.id }, 'could not drop the staged rows of an ended lead import yet; the next sweep tries again');
    }
  }
  if (dropped > 0) logger.info({ dropped }, 'dropped the staged rows of ended lead imports');
  return { dropped, busy };
}

/**
 * Drops an ended import's staging table and forgets it, in one transaction that waits at most two
 * seconds for the table; false when another sweep has just done it (the row is locked or clear).
 */
async function dropStaging(em: CrmContext['em'], importId: string, stagingTable: string): Promise<boolean> {
  return em.transactional(async (transaction) => {
    const table = importTables(transaction, stagingTable);
    await transaction.execute(`set local lock_timeout = '2s'`);
    const claimed = await transaction.execute<Array<{ id: string }>>(
      `select id from ${table.leadImport} where id = ? and staging_table = ? for update skip locked`,
      [importId, stagingTable],
    );
    if (claimed.length === 0) return false;
    await transaction.execute(`drop table if exists ${table.staging}`);
    await transaction.execute(`update ${table.leadImport} set staging_table = null where id = ?`, [importId]);
    return true;
  });
}
