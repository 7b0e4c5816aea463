import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AssetKind } from '../assets/index.js';
import type { Campaign } from '../campaign/campaign.entity.js';
import { CampaignType } from '../campaign/campaign.type.js';
import type { CampaignJobContext } from './campaign-job.loaders.js';
import type { CampaignJobService } from './campaign-job.service.js';
import { CampaignJobType } from './campaign-job.type.js';

@Resolver(() => CampaignJobType)
export class CampaignJobResolver {
  constructor(private readonly jobService: CampaignJobService) {}

  @Mutation(() => CampaignJobType, {
    description:
      'Builds the campaign\'s assets in the background: the kinds given (default: all five) and what they need, skipping those already ready unless `regenerate`. ' +
      'The website is read before it returns, so a site that cannot be analysed fails here. Follow it with Subscription.jobProgress(jobId), or campaignJob(id). ' +
      'A model that is unavailable is waited for (the job retries, resuming where it stopped); jobs of one campaign run one after the other, ' +
      'a later one building only what is still needed when its turn comes. The same request while its job is still queued or running returns that job.',
  })
  @Directive('@tag(name: "llm")')
  async generateCampaign(
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('kinds', () => [AssetKind], { nullable: true }) kinds: AssetKind[] | null | undefined,
    @Arg('regenerate', () => Boolean, { defaultValue: false, description: 'Rebuild the kinds given even when they are ready.' }) regenerate: boolean,
    @Ctx() context: CampaignJobContext,
  ) {
    return this.jobService.view(await this.jobService.start(context, campaignId, kinds, regenerate));
  }

  @Mutation(() => CampaignJobType, { description: 'Stops a queued or running generateCampaign job. Assets already built are kept; the one in progress is not stored.' })
  async cancelCampaignJob(@Arg('id', () => ID) id: string, @Ctx() context: CampaignJobContext) {
    return this.jobService.view(await this.jobService.cancel(context, id));
  }

  @Query(() => CampaignJobType, { nullable: true, description: 'A generateCampaign job of your tenant, or null.' })
  async campaignJob(@Arg('id', () => ID) id: string, @Ctx() context: CampaignJobContext) {
    const job = await this.jobService.get(context, id);
    return job ? this.jobService.view(job) : null;
  }

  @FieldResolver(() => CampaignType, { description: 'The campaign it builds.' })
  campaign(@Root() job: CampaignJobType, @Ctx() context: CampaignJobContext) {
    return context.loaders.campaignById.load(job.campaignId);
  }
}

@Resolver(() => CampaignType)
export class CampaignJobsResolver {
  constructor(private readonly jobService: CampaignJobService) {}

  @FieldResolver(() => [CampaignJobType], { description: 'Its generateCampaign jobs, newest first.' })
  async jobs(@Root() campaign: Campaign, @Ctx() context: CampaignJobContext) {
    const jobs = await context.loaders.jobsByCampaign.load(campaign.id);
    return jobs.map((job) => this.jobService.view(job));
  }
}
