import { enrichmentRecordCompleted, publishEvents, type PublishInput } from '@gtm/events';
import { defineJobKind, JobStatus, type JobKind } from '@gtm/jobs';
import type { SecretBox } from '@gtm/secrets';
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import { enrichRecord, RetryLaterError, type EnrichmentServices, type JobRun } from '../enrichment-pipeline/record-enrichment.js';
import { EnrichmentRecord, EnrichmentRecordStatus } from '../enrichment-record/enrichment-record.entity.js';
import { EnrichmentStep, StepStatus } from '../enrichment-record/enrichment-results.js';
import { type RecordChanges, updateRecord } from '../enrichment-record/record-update.js';
import { leadListProgressOf, readLeadList, type LeadListProgress } from '../lead-list/lead-list.reading.js';
import type { LeadListSource } from '../lead-list/lead-list.source.js';
import type { WebsiteAnalysis } from '../website-analysis/website-analysis.client.js';
import { EnrichmentJob, EnrichmentJobSource, enrichmentJobKind } from './enrichment-job.entity.js';

/** Records read per query while a job walks its list. */
const pageSize = 500;

/** Contacts a lead's event carries, best-ranked first: the lead may be any of them, not only the owner. */
const contactsPublished = 3;

/** Sites whose analysis one attempt keeps in memory. */
const analysesKept = 2_000;

/** What seals a job's delegated token: bound to the job, so a row copied to another job opens to nothing. */
export const delegatedTokenPurpose = (jobId: string) => `caller-delegation:${jobId}`;

export interface EnrichmentJobKindOptions {
  services: EnrichmentServices;
  secrets: SecretBox;
  /** Reads a lead list job's leads from crm-service. */
  leadLists: LeadListSource;
  /** Records processed at once within one job (`ENRICHMENT_RECORD_CONCURRENCY`). */
  concurrency: number;
  /** Runs of a job before retryable failures fail their records (`ENRICHMENT_JOB_MAX_ATTEMPTS`). Default: 5. */
  maxAttempts?: number;
}

/** The event telling the lead's service what its record found; none for a record of no lead, or one that failed. */
function leadEnrichmentOf(record: EnrichmentRecord, changes: Partial<EnrichmentRecord>): PublishInput<typeof enrichmentRecordCompleted> | null {
  if (!record.leadId || (changes.status !== EnrichmentRecordStatus.ENRICHED && changes.status !== EnrichmentRecordStatus.PARTIAL)) return null;
  const ranked = (changes.contacts ?? []).slice(0, contactsPublished).map((contact) => ({ name: contact.name, title: contact.title, email: contact.email, phone: contact.phone, linkedinUrl: contact.linkedinUrl, source: contact.source }));
  const qualification = changes.qualification;
  return {
    entityId: record.leadId,
    requestId: null,
    data: {
      jobId: record.jobId,
      recordId: record.id,
      status: changes.status,
      companyName: record.companyName,
      website: changes.normalizedWebsite ?? null,
      domain: changes.domain ?? null,
      contact: ranked[0] ?? null,
      contacts: ranked,
      qualification: qualification ? { score: qualification.score, tier: qualification.tier, reasoning: qualification.reasoning } : null,
    },
  };
}

/** The caller's token the job was created with, opened, or why the job cannot call other services. */
function openDelegatedToken(job: EnrichmentJob, sealed: string | null, secrets: SecretBox): JobRun['delegatedToken'] {
  if (!sealed) return { missing: 'The job was created without an authorisation to call content-service (not through the gateway); create it through the API.' };
  let token: string;
  try {
    token = secrets.open(sealed, delegatedTokenPurpose(job.id));
  } catch {
    return { missing: 'The job’s authorisation cannot be opened (SECRETS_KEY changed); start the job again.' };
  }
  const expiresAt = (decodeJwt(token).exp ?? 0) * 1000;
  if (expiresAt <= Date.now()) return { missing: `The job’s authorisation expired at ${new Date(expiresAt).toISOString()}; start the job again.` };
  return { token };
}

/**
 * How an enrichment job runs: up to `concurrency` records at once, each through the steps asked for
 * (`enrichRecord`), each committed on its own with everything it found. A record's failure is
 * the record's (FAILED or PARTIAL, with the reason); a provider failure worth retrying makes the
 * attempt retry the record later, and on the last attempt fails the record instead.
 */
/** What one attempt keeps: the records' run, and how far the lead list is read (a lead list job's). */
export interface EnrichmentAttempt extends JobRun {
  leadList: LeadListProgress | null;
  /** Whether the job's message still says the list is being read (cleared once, after it is read). */
  readingShown: boolean;
}

/** The job's message while its lead list is read, or null once it is (said once); undefined: unchanged. */
function readingMessage(state: EnrichmentAttempt): string | null | undefined {
  const list = state.leadList;
  if (!list) return undefined;
  if (!list.done) {
    state.readingShown = true;
    return `Reading the lead list: ${list.read.toLocaleString('en-US')} of ${list.expected.toLocaleString('en-US')} leads read; each is enriched as it arrives.`;
  }
  if (!state.readingShown) return undefined;
  state.readingShown = false;
  return null;
}

export function createEnrichmentJobKind(options: EnrichmentJobKindOptions): JobKind<EnrichmentRecord, EnrichmentJob, EnrichmentAttempt> {
  const { services, secrets } = options;
  return defineJobKind<EnrichmentRecord, EnrichmentJob, EnrichmentAttempt>({
    kind: enrichmentJobKind,
    entity: EnrichmentJob,
    // One enrichment at a time per tenant: a tenant's big list does not hold up everyone else's.
    queueOf: (job) => `enrichment:${job.tenantId}`,
    maxAttempts: options.maxAttempts ?? 5,
    concurrency: options.concurrency,
    async startAttempt({ job, em, signal, attempt, maxAttempts }) {
      const sealed = await em.fork().findOneOrFail(EnrichmentJob, { id: job.id }, { fields: ['delegatedCallerToken'] });
      const listed = job.source === EnrichmentJobSource.LEAD_LIST;
      return {
        leadList: listed ? leadListProgressOf(job) : null,
        readingShown: listed && job.leadListReadAt === null,
        tenantId: job.tenantId,
        steps: new Set(job.steps),
        budgetUsdPerRecord: job.budgetUsdPerRecord,
        campaign: job.campaign,
        delegatedToken: openDelegatedToken(job, sealed.delegatedCallerToken, secrets),
        analyses: new LRUCache<string, Promise<WebsiteAnalysis>>({ max: analysesKept }),
        signal,
        lastAttempt: attempt >= maxAttempts,
      };
    },
    async *items({ job, em, state, signal }) {
      for (let after = -1; ; ) {
        // A fresh fork per page keeps a 100,000-record job from filling one identity map.
        const page = await em.fork().find(EnrichmentRecord, { jobId: job.id, position: { $gt: after } }, { orderBy: { position: 'asc' }, limit: pageSize });
        yield* page;
        if (page.length < pageSize) break;
        after = page.at(-1)!.position;
      }
      // A lead list job then reads the rest of its list (all of it, the first time), enriching each page as it arrives.
      if (state.leadList) yield* readLeadList({ source: options.leadLists, em, job, delegatedToken: state.delegatedToken, signal, progress: state.leadList });
    },
    itemKey: (record) => String(record.position),
    async processItem(record, { state, logger, signal }) {
      let changes: RecordChanges;
      try {
        changes = (await enrichRecord(record, state, services)).changes;
      } catch (error) {
        if (signal.aborted || error instanceof RetryLaterError) throw error;
        // A fault of ours, not of the record: logged once, and the rest of the list goes on.
        logger.error({ err: error, recordId: record.id, position: record.position }, 'enrichment of a record failed unexpectedly');
        changes = {
          status: EnrichmentRecordStatus.FAILED,
          failureReason: 'An internal error stopped this record; it was logged. Run the job again to retry it.',
          stepOutcomes: [{ step: EnrichmentStep.WEBSITE, status: StepStatus.FAILED, note: 'Internal error.', costUsd: 0, durationMs: 0 }],
        };
      }
      return {
        outcome: changes.status === EnrichmentRecordStatus.FAILED ? 'failed' : 'completed',
        message: readingMessage(state),
        save: async (transaction) => {
          await updateRecord(transaction, record, changes, new Date());
          // What was found reaches the lead through crm-service, committed with the record or not at all.
          const completed = leadEnrichmentOf(record, changes);
          if (completed) await publishEvents(transaction, enrichmentRecordCompleted, [completed]);
        },
      };
    },
    async conclude({ job, em, state }) {
      const rows = await em
        .getConnection()
        .execute<Array<{ status: string; count: string; cost: string | null }>>(
          `select status, count(*) as count, sum(cost_usd) as cost from "${em.config.get('schema')}".enrichment_record where job_id = ? group by status`,
          [job.id],
        );
      const count = (status: string) => Number(rows.find((row) => row.status === status)?.count ?? 0);
      const cost = rows.reduce((sum, row) => sum + Number(row.cost ?? 0), 0);
      const summary = `Enriched ${count('ENRICHED')}, partly ${count('PARTIAL')}, failed ${count('FAILED')}; cost $${cost.toFixed(4)}.`;
      // The list could not be read to its end: what was read is enriched, and the job says why it stopped there.
      if (state.leadList?.problem) return { status: JobStatus.FAILED, message: `${state.leadList.problem} ${summary}` };
      return { message: summary };
    },
  });
}
