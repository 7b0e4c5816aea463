import type { FilterQuery } from '@mikro-orm/core';
import { badUserInput, notFound, paginate, parseInput, type ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import type { EnrichmentLoaders } from '../loaders.js';
import { activeJobStatuses, EnrichmentJob, finishedJobStatuses, JobStatus } from './enrichment-job.entity.js';
import type { CreateEnrichmentJobInput, EnrichmentJobFilter } from './enrichment-job.input.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

const createEnrichmentJobSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  total: z.number().int().min(0, 'must not be negative').max(1_000_000, 'must be at most 1,000,000'),
});

export class EnrichmentJobService {
  async get(context: EnrichmentContext, id: string): Promise<EnrichmentJob | null> {
    return context.loaders.enrichmentJobById.load(id);
  }

  async list(context: EnrichmentContext, filter: EnrichmentJobFilter | undefined, args: ConnectionArgs) {
    const where: FilterQuery<EnrichmentJob> = filter?.status?.length ? { status: { $in: filter.status } } : {};
    return paginate(context.em, EnrichmentJob, where, args);
  }

  async create(context: EnrichmentContext, input: CreateEnrichmentJobInput): Promise<EnrichmentJob> {
    const fields = parseInput(createEnrichmentJobSchema, input);
    const job = context.em.create(EnrichmentJob, {
      ...fields,
      tenantId: context.caller.tenantId,
      status: JobStatus.QUEUED,
    } as never);
    await context.em.persist(job).flush();
    return job;
  }

  async cancel(context: EnrichmentContext, id: string): Promise<EnrichmentJob> {
    const job = await this.get(context, id);
    if (!job) throw notFound('EnrichmentJob', id);
    if (finishedJobStatuses.includes(job.status)) throw alreadyFinished(job);
    const now = new Date();
    // A conditional update rather than a read-modify-write, so that a worker finishing the job at
    // the same moment keeps its terminal status instead of having it overwritten with CANCELLED.
    const changed = await context.em.nativeUpdate(
      EnrichmentJob,
      { id, tenantId: context.caller.tenantId, status: { $in: [...activeJobStatuses] } },
      { status: JobStatus.CANCELLED, finishedAt: now, updatedAt: now },
    );
    await context.em.refresh(job);
    if (changed === 0) throw alreadyFinished(job);
    return job;
  }
}

function alreadyFinished(job: EnrichmentJob) {
  return badUserInput(`Enrichment job ${job.id} already finished (${job.status}); only a QUEUED or RUNNING job can be cancelled.`, 'id');
}
