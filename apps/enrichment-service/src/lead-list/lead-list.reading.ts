import type { EntityManager } from '@gtm/runtime';
import type { EnrichmentJob } from '../enrichment-job/enrichment-job.entity.js';
import { EnrichmentRecord } from '../enrichment-record/enrichment-record.entity.js';
import { insertRecords } from '../enrichment-record/record-insert.js';
import type { LeadListSource, LeadPage } from './lead-list.source.js';

/** How far a job has read its lead list, as its attempt knows it (what the progress message says). */
export interface LeadListProgress {
  read: number;
  /** The list's size when the job was created, or what was read if that turned out more. */
  expected: number;
  done: boolean;
  /** Why the rest of the list cannot be read (the job fails with it once the leads read are done); null when nothing stops it. */
  problem: string | null;
}

export interface LeadListReadingOptions {
  source: LeadListSource;
  /** The job's tenant-scoped EntityManager (not in a transaction). */
  em: EntityManager;
  /** The job as the attempt holds it: its `total` follows what is read, for the progress snapshots. */
  job: EnrichmentJob;
  delegatedToken: { token: string } | { missing: string };
  signal: AbortSignal;
  progress: LeadListProgress;
}

/** The progress of a job's list as stored. */
export function leadListProgressOf(job: EnrichmentJob): LeadListProgress {
  return { read: job.leadsRead, expected: Math.max(job.total, job.leadsRead), done: job.leadListReadAt !== null, problem: null };
}

/**
 * Writes one page's records and moves the job's place in the list past it, in one transaction:
 * only if the job is still RUNNING and nobody read this page first (its count of leads read is still
 * the one this page was asked from). So a page is stored once or not at all, whatever crashes or
 * runs twice. Returns false when the page was not stored (job stopped, or another run was first).
 */
async function storePage(em: EntityManager, job: EnrichmentJob, readBefore: number, cursorBefore: string | null, page: LeadPage): Promise<{ stored: boolean; total: number }> {
  const schema = em.config.get('schema');
  const read = readBefore + page.records.length;
  const finished = !page.hasNextPage;
  return em.fork().transactional(async (transaction) => {
    const connection = transaction.getConnection();
    const moved = await connection.execute<Array<{ id: string }>>(
      `update "${schema}".enrichment_job e set leads_read = ?, lead_list_cursor = ?, lead_list_read_at = ?
         from "${schema}".job j
        where j.id = e.id and e.id = ? and j.tenant_id = ? and j.status = 'RUNNING' and e.leads_read = ?
        returning e.id`,
      [read, page.endCursor ?? cursorBefore, finished ? new Date() : null, job.id, job.tenantId, readBefore],
      'all',
      transaction.getTransactionContext(),
    );
    if (moved.length === 0) return { stored: false, total: job.total };
    await insertRecords(transaction, job.tenantId, job.id, page.records);
    // The total is the list's size as counted at creation until the list is read to its end, then
    // what it held (leads may have been added or removed meanwhile).
    const totals = await connection.execute<Array<{ total: number }>>(
      `update "${schema}".job set total = ${finished ? '?' : 'greatest(total, ?)'}, updated_at = now() where id = ? and tenant_id = ? returning total`,
      [read, job.id, job.tenantId],
      'all',
      transaction.getTransactionContext(),
    );
    return { stored: true, total: Number(totals[0]!.total) };
  });
}

/**
 * The job's lead list from where the job last stopped, a page at a time, with the caller's
 * delegated token (decision 0070): each page is stored as records (with the job's place in the
 * list, `storePage`), then those records are yielded to be enriched, so enrichment starts with the
 * first page. Stops without throwing when the list cannot be read any further for good (no
 * authorisation, the list gone), leaving the reason in `progress.problem`; throws
 * `LeadListUnavailableError` when crm-service cannot answer now, so the attempt is retried later
 * and resumes from the last page stored.
 */
export async function* readLeadList(options: LeadListReadingOptions): AsyncGenerator<EnrichmentRecord> {
  const { source, em, job, delegatedToken, signal, progress } = options;
  if (progress.done || !job.leadListId) return;
  if ('missing' in delegatedToken) {
    progress.problem = `The lead list could not be read: ${delegatedToken.missing}`;
    return;
  }
  let cursor = job.leadListCursor;
  while (!progress.done && !signal.aborted) {
    const page = await source.page(delegatedToken.token, job.leadListId, cursor, progress.read);
    if (!page) {
      progress.problem = `The lead list ${job.leadListId} is gone (deleted, or no longer in your workspace) after ${progress.read} of its leads were read; those were enriched.`;
      return;
    }
    const before = progress.read;
    const { stored, total } = await storePage(em, job, before, cursor, page);
    // Another run read this page first, or the job stopped: what is stored is the truth, and the
    // attempt's commits find out which.
    if (!stored) return;
    cursor = page.endCursor ?? cursor;
    progress.read = before + page.records.length;
    progress.done = !page.hasNextPage;
    progress.expected = total;
    // The attempt's job is what its progress snapshots are made of.
    job.total = total;
    if (page.records.length === 0) continue;
    yield* await em.fork().find(EnrichmentRecord, { jobId: job.id, position: { $gte: before, $lt: progress.read } }, { orderBy: { position: 'asc' } });
  }
}
