import { progressPercent } from '@gtm/jobs';
import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, FieldResolver, Float, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { EnrichmentLoaders } from '../loaders.js';
import type { EnrichmentJob } from './enrichment-job.entity.js';
import { CreateEnrichmentJobInput, EnrichmentJobFilter } from './enrichment-job.input.js';
import type { EnrichmentJobService } from './enrichment-job.service.js';
import { EnrichmentJobConnection, EnrichmentJobType } from './enrichment-job.type.js';

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

  @Mutation(() => EnrichmentJobType, { description: 'Creates a QUEUED job; with records, it starts at once.' })
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
}
