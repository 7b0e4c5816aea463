import { defineJobKind, JobStatus } from '@gtm/jobs';
import { LeadImport, leadImportJobKind } from './lead-import.entity.js';
import { importTables, mergeStagedImport } from './lead-import.merge.js';

/** What the import came to, as the user reads it. */
export function summaryOf(counts: { rowsRead: number; imported: number; merged: number; rejected: number; leadsUpdated: number }): string {
  const changed = counts.leadsUpdated === 0 ? 'no existing lead changed' : `${counts.leadsUpdated} existing leads updated`;
  return `Read ${counts.rowsRead} rows: ${counts.imported} new leads, ${counts.merged} merged, ${counts.rejected} rejected; ${changed}.`;
}

/**
 * A lead import as a job of one item: the merge of its staged rows, written in the one
 * transaction that also records the item (decision 0082). A cancellation committed while the
 * merge runs makes that transaction roll back, so an import lands whole or not at all. Imports of
 * one tenant run one at a time (their queue), so two never race for the same new lead.
 */
export function createLeadImportKind() {
  return defineJobKind<{ key: string }, LeadImport>({
    kind: leadImportJobKind,
    entity: LeadImport,
    queueOf: (job) => `lead-import:${job.tenantId}`,
    maxAttempts: 3,
    items: () => [{ key: 'merge' }],
    itemKey: (item) => item.key,
    describeItem: (_item, { job }) => `Merging ${job.rowsRead} rows.`,

    async processItem(_item, { job, em }) {
      const [usable] = await em.execute<Array<{ usable: boolean }>>(`select exists (select 1 from ${importTables(em, job.stagingTable).staging} where error_message is null) as usable`);
      const outcome = usable?.usable ? 'completed' : 'failed';
      return {
        outcome,
        save: async (transaction) => {
          const counts = await mergeStagedImport(transaction, job, null);
          const table = importTables(transaction, job.stagingTable);
          const rejected = job.rejected + counts.refused;
          await transaction.execute(
            `update ${table.leadImport} set imported = ?, merged = ?, rejected = ?, leads_updated = ?, companies_created = ?, list_id = ?, staging_table = null where id = ?`,
            [counts.imported, counts.merged, rejected, counts.leadsUpdated, counts.companiesCreated, counts.listId, job.id],
          );
          await transaction.execute(`drop table ${table.staging}`);
          // The job counts rows: leads made or merged are done, rejected rows failed. The runner
          // adds this item's own 1 to `completed` (or `failed`, when no row was usable) as it commits.
          await transaction.execute(`update ${table.schema}.job set completed = ?, failed = ?, message = ? where id = ?`, [
            counts.imported + counts.merged - (outcome === 'completed' ? 1 : 0),
            rejected - (outcome === 'failed' ? 1 : 0),
            summaryOf({ rowsRead: job.rowsRead, imported: counts.imported, merged: counts.merged, rejected, leadsUpdated: counts.leadsUpdated }),
            job.id,
          ]);
        },
      };
    },

    async conclude({ job, em }) {
      const done = await em.fork().findOneOrFail(LeadImport, { id: job.id });
      if (done.imported + done.merged === 0) {
        return { status: JobStatus.FAILED, message: `No row of the file is usable: all ${done.rowsRead} were rejected (see errors).` };
      }
      return { status: JobStatus.SUCCEEDED, message: summaryOf(done) };
    },
  });
}
