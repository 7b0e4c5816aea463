import { defineJobKind } from '@gtm/jobs';
import { EnrichmentRecord, EnrichmentRecordStatus } from '../enrichment-record/enrichment-record.entity.js';
import { identifyRecord } from '../enrichment-record/record-identity.js';
import { EnrichmentJob, enrichmentJobKind } from './enrichment-job.entity.js';

/** Records read per query while a job walks its list. */
const pageSize = 500;

/**
 * How an enrichment job runs: record by record, in list order. Today's step identifies each
 * record's company (its domain); the steps that call data sources build on the same kind.
 */
export const enrichmentJobDefinition = defineJobKind<EnrichmentRecord, EnrichmentJob>({
  kind: enrichmentJobKind,
  entity: EnrichmentJob,
  // One enrichment at a time per tenant: a tenant's big list does not hold up everyone else's.
  queueOf: (job) => `enrichment:${job.tenantId}`,
  maxAttempts: 5,
  async *items({ job, em }) {
    for (let after = -1; ; ) {
      // A fresh fork per page keeps a 100,000-record job from filling one identity map.
      const page = await em.fork().find(EnrichmentRecord, { jobId: job.id, position: { $gt: after } }, { orderBy: { position: 'asc' }, limit: pageSize });
      yield* page;
      if (page.length < pageSize) return;
      after = page.at(-1)!.position;
    }
  },
  itemKey: (record) => String(record.position),
  async processItem(record) {
    const identity = identifyRecord(record);
    const changes = identity.found
      ? { status: EnrichmentRecordStatus.ENRICHED, domain: identity.domain, normalizedWebsite: identity.normalizedWebsite, failureReason: null }
      : { status: EnrichmentRecordStatus.FAILED, failureReason: identity.failureReason };
    return {
      outcome: identity.found ? 'completed' : 'failed',
      save: async (transaction) => {
        await transaction.nativeUpdate(EnrichmentRecord, { id: record.id }, { ...changes, updatedAt: new Date() });
      },
    };
  },
});
