import { activeJobStatuses, isTerminal, JobItem, JobStatus, progressPercent, type JobQueue } from '@gtm/jobs';
import { badUserInput, isUuid, notFound, type SubgraphContext } from '@gtm/runtime';
import { assetKinds, type AssetKind } from '../assets/index.js';
import { AssetState } from '../campaign-asset/campaign-asset.entity.js';
import type { CampaignAssetRepository } from '../campaign-asset/campaign-asset.repository.js';
import type { CampaignAssetService } from '../campaign-asset/campaign-asset.service.js';
import type { AssetOrchestrator } from '../generation/asset-orchestrator.js';
import { storedWebsiteContext } from '../generation/website-context.js';
import type { CampaignLoaders } from '../loaders.js';
import { CampaignJob } from './campaign-job.entity.js';
import { nothingToBuild } from './campaign-job.kind.js';
import type { CampaignJobType } from './campaign-job.type.js';

type CampaignContext = SubgraphContext<CampaignLoaders>;

export interface CampaignJobServiceOptions {
  queue: JobQueue;
  orchestrator: AssetOrchestrator;
  assetService: CampaignAssetService;
  repository: CampaignAssetRepository;
}

const cancelledMessage = 'Not built: the generateCampaign job was cancelled.';

/**
 * `generateCampaign` on libs/jobs (decision 0018). The request plans the run and reads the website
 * while the caller's token is valid; the job row keeps the plan and what was read, and the
 * campaign service's worker builds one asset per item (`createCampaignJobKind`), with retries,
 * resumption after a restart, and progress for `Subscription.jobProgress`.
 */
export class CampaignJobService {
  constructor(private readonly options: CampaignJobServiceOptions) {}

  async start(context: CampaignContext, campaignId: string, kinds: readonly AssetKind[] | null | undefined, regenerate: boolean): Promise<CampaignJob> {
    const wanted = kinds && kinds.length > 0 ? assetKinds.filter((kind) => kinds.includes(kind)) : [...assetKinds];
    // The same request again while its job is still queued or running (a double click, a client
    // retrying) gets that job rather than a second one that would pay for the same model calls.
    // Looked for beside the campaign itself: any id (not only a UUID) of no campaign of this tenant
    // is NOT_FOUND, and only a UUID can be a campaign_id.
    const [campaign, same] = await Promise.all([
      context.loaders.campaignById.load(campaignId),
      isUuid(campaignId) ? this.activeJobLike(context, campaignId, wanted, regenerate) : null,
    ]);
    if (!campaign) throw notFound('Campaign', campaignId);
    if (same) return same;
    const run = this.options.assetService.runOf(context);
    const rebuilt = regenerate ? wanted : [];
    const planned = await this.options.orchestrator.planJob(run, campaignId, {
      kinds: wanted,
      regenerate: rebuilt,
      website: this.options.assetService.websiteFor(context),
    });
    const { tenantId } = context.caller;
    const build = async (em: CampaignContext['em']) => {
      const job = em.create(CampaignJob, {
        tenantId,
        campaignId,
        kinds: wanted,
        regenerate: rebuilt,
        steps: planned.plan.steps,
        website: planned.website ? storedWebsiteContext(planned.website) : null,
        attribution: run.attribution,
        total: planned.plan.steps.length,
        subjectType: 'Campaign',
        subjectId: campaignId,
      });
      em.persist(job);
      // Readers see what the job will build from the moment it exists, in the same commit.
      await this.options.repository.markGenerating(em, tenantId, campaignId, job.steps.map((step) => step.kind));
      return job;
    };
    if (planned.plan.steps.length > 0) return this.options.queue.submit(context.em, build);
    // Nothing to build: the answer is known now, and no worker need be woken for it.
    const done = await build(context.em);
    const now = new Date();
    Object.assign(done, { status: JobStatus.SUCCEEDED, message: nothingToBuild, startedAt: now, finishedAt: now });
    await context.em.flush();
    await this.options.queue.publish(done);
    return done;
  }

  private async activeJobLike(context: CampaignContext, campaignId: string, kinds: readonly AssetKind[], regenerate: boolean): Promise<CampaignJob | null> {
    const active = await context.em.fork().find(CampaignJob, { campaignId, status: { $in: [...activeJobStatuses] } }, { orderBy: { createdAt: 'desc' } });
    const sameKinds = (job: CampaignJob) => job.kinds.length === kinds.length && job.kinds.every((kind) => kinds.includes(kind));
    return active.find((job) => sameKinds(job) && (job.regenerate.length > 0) === regenerate) ?? null;
  }

  async get(context: CampaignContext, id: string): Promise<CampaignJob | null> {
    return context.loaders.campaignJobById.load(id);
  }

  /**
   * Stops a QUEUED or RUNNING job. The step in flight is not stored (its commit finds the job
   * cancelled and rolls back); the assets the job had yet to build say they were not.
   */
  async cancel(context: CampaignContext, id: string): Promise<CampaignJob> {
    const result = await this.options.queue.cancel(context.em, CampaignJob, id);
    if (!result) throw notFound('CampaignJob', id);
    const { job, cancelled } = result;
    if (!cancelled) throw badUserInput(`Campaign job ${id} already finished (${job.status}); only a QUEUED or RUNNING job can be cancelled.`, 'id');
    const [items, records] = await Promise.all([context.em.fork().find(JobItem, { jobId: job.id }), this.options.repository.load(context.em, job.campaignId)]);
    const processed = new Set(items.map((item) => item.itemKey));
    const unbuilt = job.steps
      .filter((step) => !processed.has(step.kind) && records.some((record) => record.kind === step.kind && record.state === AssetState.GENERATING))
      .map((step) => ({ kind: step.kind, error: cancelledMessage }));
    await this.options.repository.markFailed(context.em, job.tenantId, job.campaignId, unbuilt);
    return job;
  }

  /** The job as clients see it (the operators' `error` stays out). */
  view(job: CampaignJob): CampaignJobType {
    return {
      id: job.id,
      campaignId: job.campaignId,
      kinds: job.kinds,
      steps: job.steps.map((step) => ({ kind: step.kind, reason: step.reason })),
      status: job.status,
      total: job.total,
      completed: job.completed,
      failed: job.failed,
      percent: job.total === 0 && isTerminal(job.status) ? 100 : progressPercent(job),
      message: job.message,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    };
  }
}
