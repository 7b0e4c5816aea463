import type { CallerContext } from '@gtm/caller';
import { createEntityLoader, isUuid, type EntityManager } from '@gtm/runtime';
import DataLoader from 'dataloader';
import type { DataSource } from './data-source/data-source.entity.js';
import { readDataSourceCatalog } from './data-source/data-source.service.js';
import { EnrichmentJob } from './enrichment-job/enrichment-job.entity.js';
import { EnrichmentRecord } from './enrichment-record/enrichment-record.entity.js';

export function createEnrichmentLoaders(em: EntityManager, caller: CallerContext) {
  let catalog: Promise<DataSource[]> | undefined;
  return {
    enrichmentJobById: createEntityLoader(em, EnrichmentJob),
    /** What each job's records cost, summed: one query however many jobs a page shows. */
    enrichmentJobCost: new DataLoader<string, number>(async (jobIds) => {
      const rows = await em
        .getConnection()
        .execute<Array<{ job_id: string; cost: string }>>(
          `select job_id, coalesce(sum(cost_usd), 0) as cost from "${em.config.get('schema')}".enrichment_record where tenant_id = ? and job_id in (${jobIds.map(() => '?').join(', ')}) group by job_id`,
          [caller.tenantId, ...jobIds],
        );
      const costs = new Map(rows.map((row) => [row.job_id, Math.round(Number(row.cost) * 1e9) / 1e9]));
      return jobIds.map((jobId) => costs.get(jobId) ?? 0);
    }),
    /** Each lead's latest enriched record (the most recent job's): one query however many leads. */
    latestRecordByLead: new DataLoader<string, EnrichmentRecord | null>(async (leadIds) => {
      const valid = [...new Set(leadIds.filter(isUuid))];
      const records = valid.length === 0 ? [] : await em.find(EnrichmentRecord, { leadId: { $in: valid }, status: { $ne: 'PENDING' } } as never, { orderBy: { updatedAt: 'desc' } });
      const latest = new Map<string, EnrichmentRecord>();
      for (const record of records) if (record.leadId && !latest.has(record.leadId)) latest.set(record.leadId, record);
      return leadIds.map((leadId) => latest.get(leadId) ?? null);
    }),
    /** The data-source catalog, read at most once per request. */
    dataSourceCatalog: (): Promise<DataSource[]> => (catalog ??= readDataSourceCatalog(em)),
  };
}

export type EnrichmentLoaders = ReturnType<typeof createEnrichmentLoaders>;
