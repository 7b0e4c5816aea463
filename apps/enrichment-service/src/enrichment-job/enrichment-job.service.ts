import type { FilterQuery } from '@mikro-orm/core';
import { JobStatus, type JobQueue } from '@gtm/jobs';
import { badUserInput, notFound, optionalText, paginate, parseInput, type ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import { EnrichmentRecord } from '../enrichment-record/enrichment-record.entity.js';
import type { EnrichmentLoaders } from '../loaders.js';
import { EnrichmentJob } from './enrichment-job.entity.js';
import type { CreateEnrichmentJobInput, EnrichmentJobFilter } from './enrichment-job.input.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

const maximumRecords = 10_000;

const recordSchema = z
  .object({ email: optionalText(320), companyName: optionalText(300), website: optionalText(2_000) })
  // A row with only a company name is kept (and counted as failed, with its reason): a list is
  // rarely complete, and one thin row must not refuse the rest. An empty row is a mistake.
  .refine((record) => record.email !== null || record.website !== null || record.companyName !== null, { message: 'is empty: give a website, an email or a company name' });

const createEnrichmentJobSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    total: z.number().int().min(0, 'must not be negative').max(1_000_000, 'must be at most 1,000,000').nullish(),
    records: z.array(recordSchema).min(1, 'must hold at least one record (or leave it out)').max(maximumRecords, `must hold at most ${maximumRecords.toLocaleString('en-US')} records`).nullish(),
  })
  .refine((input) => !input.records || input.total === null || input.total === undefined || input.total === input.records.length, {
    path: ['total'],
    message: 'must equal the number of records when both are given',
  })
  .refine((input) => input.records || (input.total !== null && input.total !== undefined), { path: ['total'], message: 'is required when no records are given' });

export class EnrichmentJobService {
  constructor(private readonly jobs: JobQueue) {}

  async get(context: EnrichmentContext, id: string): Promise<EnrichmentJob | null> {
    return context.loaders.enrichmentJobById.load(id);
  }

  async list(context: EnrichmentContext, filter: EnrichmentJobFilter | undefined, args: ConnectionArgs) {
    const where: FilterQuery<EnrichmentJob> = filter?.status?.length ? { status: { $in: filter.status } } : {};
    return paginate(context.em, EnrichmentJob, where, args);
  }

  /**
   * A job with records is submitted: the job, its records and its worker task are committed
   * together. Without records the job only records what is coming (`total`) and waits for them.
   */
  async create(context: EnrichmentContext, input: CreateEnrichmentJobInput): Promise<EnrichmentJob> {
    const { name, total, records } = parseInput(createEnrichmentJobSchema, input);
    const tenantId = context.caller.tenantId;
    const build = async (em: typeof context.em) => {
      const job = em.create(EnrichmentJob, { name, tenantId, total: records?.length ?? total ?? 0, status: JobStatus.QUEUED });
      job.subjectType = 'EnrichmentJob';
      job.subjectId = job.id;
      // The job first: records refer to it by a plain column, which the unit of work cannot order by.
      await em.persist(job).flush();
      if (records) {
        em.persist(records.map((record, position) => em.create(EnrichmentRecord, { ...record, jobId: job.id, position, tenantId })));
        await em.flush();
      }
      return job;
    };
    if (records) return this.jobs.submit(context.em, build);
    const waiting = await build(context.em);
    await this.jobs.publish(waiting);
    return waiting;
  }

  async cancel(context: EnrichmentContext, id: string): Promise<EnrichmentJob> {
    const result = await this.jobs.cancel(context.em, EnrichmentJob, id);
    if (!result) throw notFound('EnrichmentJob', id);
    if (!result.cancelled) {
      throw badUserInput(`Enrichment job ${id} already finished (${result.job.status}); only a QUEUED or RUNNING job can be cancelled.`, 'id');
    }
    return result.job;
  }
}
