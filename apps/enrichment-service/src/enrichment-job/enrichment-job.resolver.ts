import { progressPercent } from '@gtm/jobs';
import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CampaignTargetingReference } from '../campaign/campaign.type.js';
import { EnrichmentRecordStatus } from '../enrichment-record/enrichment-record.entity.js';
import { EnrichmentRecordConnection } from '../enrichment-record/enrichment-record.type.js';
import type { EnrichmentLoaders } from '../loaders.js';
import { EnrichmentJobSource, type EnrichmentJob } from './enrichment-job.entity.js';
import { CreateEnrichmentJobInput, EnrichmentJobFilter } from './enrichment-job.input.js';
import type { EnrichmentJobService } from './enrichment-job.service.js';
import { EnrichmentJobConnection, EnrichmentJobType, ExportFormat } from './enrichment-job.type.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

@Resolver(() => EnrichmentJobType)
export class EnrichmentJobResolver {
  constructor(private readonly enrichmentJobService: EnrichmentJobService) {}

  @Query(() => EnrichmentJobType, { nullable: true, description: 'An enrichment job of your tenant, or null.' })
  enrichmentJob(@Arg('id', () => ID) id: string, @Ctx() context: EnrichmentContext) {
    return this.enrichmentJobService.get(context, id);
  }

  @Query(() => EnrichmentJobConnection, { description: 'Enrichment jobs, newest first.' })
  enrichmentJobs(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => EnrichmentJobFilter, { nullable: true }) filter: EnrichmentJobFilter | undefined,
    @Ctx() context: EnrichmentContext,
  ) {
    return this.enrichmentJobService.list(context, filter, args);
  }

  @Mutation(() => EnrichmentJobType, { description: 'Creates a QUEUED job; with records or a lead list (read by the job as it runs), it starts at once.' })
  createEnrichmentJob(@Arg('input', () => CreateEnrichmentJobInput) input: CreateEnrichmentJobInput, @Ctx() context: EnrichmentContext) {
    return this.enrichmentJobService.create(context, input);
  }

  @Mutation(() => EnrichmentJobType, { description: 'Stops a queued or running job; a finished job cannot be cancelled.' })
  cancelEnrichmentJob(@Arg('id', () => ID) id: string, @Ctx() context: EnrichmentContext) {
    return this.enrichmentJobService.cancel(context, id);
  }

  @FieldResolver(() => Float, { description: 'Records processed, successfully or not, as a share of total: 0 to 100.' })
  percent(@Root() job: EnrichmentJob) {
    return progressPercent(job);
  }

  @FieldResolver(() => Int, {
    description:
      'Records read into the job so far. A lead list is read by the job itself, a page at a time, while it enriches what it has read (`total` is the list’s size until it is read to the end); records given inline or in a file are all read once the job has them.',
  })
  recordsRead(@Root() job: EnrichmentJob) {
    return job.source === EnrichmentJobSource.LEAD_LIST ? job.leadsRead : job.total;
  }

  @FieldResolver(() => Float, { description: 'What the job has spent so far on searches and model tokens, in USD: the sum of its records’ costs.' })
  costUsd(@Root() job: EnrichmentJob, @Ctx() context: EnrichmentContext) {
    return context.loaders.enrichmentJobCost.load(job.id);
  }

  @FieldResolver(() => CampaignTargetingReference, { nullable: true, description: 'The campaign whose targeting steers the job.' })
  campaign(@Root() job: EnrichmentJob) {
    return job.campaignId ? { id: job.campaignId } : null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'For a job created with `upload: true`, while it waits for its file: `PUT` the CSV here (`Content-Type: text/csv`, with your API key). The link works for 15 minutes and once; a new one is given each time it is read. Null once the file arrived.',
  })
  uploadUrl(@Root() job: EnrichmentJob, @Ctx() context: EnrichmentContext) {
    return this.enrichmentJobService.uploadUrl(context, job);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'The results as a file (`GET` with your API key, for an hour): every original column as given, then the enriched ones (website, domain, the three best-ranked contacts, each as numbered columns “Contact 1 Name” … “Contact 3 LinkedIn” with name, title, email, phone and LinkedIn, subject line, ice-breaker, hot-button topic, qualification score, tier and reasoning, status, failure reason, cost). A column the file already had for one of them, left empty in a row, is filled there instead. Cells that a spreadsheet would run as a formula are escaped. Null while an upload job waits for its file.',
  })
  downloadUrl(
    @Root() job: EnrichmentJob,
    @Arg('format', () => ExportFormat, { defaultValue: ExportFormat.CSV }) _format: ExportFormat,
    @Ctx() context: EnrichmentContext,
  ) {
    return this.enrichmentJobService.downloadUrl(context, job);
  }

  @FieldResolver(() => EnrichmentRecordConnection, { description: 'The job’s records in list order, optionally only those of some statuses.' })
  records(
    @Root() job: EnrichmentJob,
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('status', () => [EnrichmentRecordStatus], { nullable: true, description: 'Only records in any of these statuses.' }) status: EnrichmentRecordStatus[] | null | undefined,
    @Ctx() context: EnrichmentContext,
  ) {
    return this.enrichmentJobService.records(context, job, args, status ?? null);
  }
}
