import { notFound, type Database, type Logger, type SubgraphContext } from '@gtm/runtime';
import { GraphQLError } from 'graphql';
import { assetKinds, buildOrderOf, type AssetKind } from '../assets/index.js';
import type { CampaignAssetService } from '../campaign-asset/campaign-asset.service.js';
import type { AssetOrchestrator, GenerationEvent, GenerationRun } from '../generation/asset-orchestrator.js';
import { gatheredWebsiteContext } from '../generation/website-context.js';
import type { CampaignLoaders } from '../loaders.js';
import { CampaignJob, JobStatus } from './campaign-job.entity.js';
import type { CampaignJobType } from './campaign-job.type.js';

type CampaignContext = SubgraphContext<CampaignLoaders>;

export interface CampaignJobServiceOptions {
  database: Database;
  orchestrator: AssetOrchestrator;
  assetService: CampaignAssetService;
  logger: Logger;
  /**
   * How long a QUEUED or RUNNING job may go without news before it reads as FAILED (its process
   * stopped). Each step writes its progress, so this only has to outlast one step with retries
   * and failover. Default: 15 minutes.
   */
  interruptedAfterMs?: number;
}

const interruptedMessage = 'The service stopped before this job finished. Run generateCampaign again: assets already built are kept.';
const stoppedMessage = 'The service was stopped while this job ran. Run generateCampaign again: assets already built are kept.';

const finished = new Set([JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]);

/**
 * `generateCampaign`: a job row, and the orchestration run in the background of this process with
 * its progress written to the row after every step. The request reads the website first (the
 * caller's token lives a minute; the run may take longer) and hands the run what it read.
 *
 * Deliberately small until libs/jobs exists (decision 0017): no retry, nothing resumed after a
 * restart (a job whose process stopped reads FAILED), no live progress subscription. Moving it
 * there means enqueueing `{ campaignId, kinds, website }` with the row and running
 * `AssetOrchestrator.generate` in the worker with the same `onStep`.
 */
export class CampaignJobService {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly interruptedAfterMs: number;

  constructor(private readonly options: CampaignJobServiceOptions) {
    this.interruptedAfterMs = options.interruptedAfterMs ?? 15 * 60_000;
  }

  async start(context: CampaignContext, campaignId: string, kinds: readonly AssetKind[] | null | undefined, regenerate: boolean): Promise<CampaignJob> {
    const wanted = kinds && kinds.length > 0 ? assetKinds.filter((kind) => kinds.includes(kind)) : [...assetKinds];
    const campaign = await context.loaders.campaignById.load(campaignId);
    if (!campaign) throw notFound('Campaign', campaignId);
    const run = this.options.assetService.runOf(context);
    const website = await this.options.orchestrator.gatherWebsite(run, campaignId, wanted, this.options.assetService.websiteFor(context));

    const em = this.options.database.forkForTenant(context.caller.tenantId);
    const job = em.create(CampaignJob, {
      tenantId: context.caller.tenantId,
      campaignId,
      kinds: wanted,
      total: buildOrderOf(wanted).length,
      message: 'Queued.',
    } as never);
    await em.persist(job).flush();

    const controller = new AbortController();
    const backgroundRun: GenerationRun = { ...run, em, logger: context.logger.child({ campaignJobId: job.id }), signal: controller.signal };
    const done = this.execute(job, em, backgroundRun, { kinds: wanted, regenerate: regenerate ? wanted : [], website })
      .catch((error: unknown) => this.options.logger.error({ err: error, campaignJobId: job.id }, 'a campaign job could not record its end'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, { controller, done });
    return job;
  }

  async get(context: CampaignContext, id: string): Promise<CampaignJob | null> {
    return context.loaders.campaignJobById.load(id);
  }

  /** The job as clients see it: one whose process stopped reads FAILED. */
  view(job: CampaignJob): CampaignJobType {
    const active = !finished.has(job.status);
    const interrupted = active && !this.running.has(job.id) && Date.now() - job.updatedAt.getTime() > this.interruptedAfterMs;
    return {
      id: job.id,
      campaignId: job.campaignId,
      kinds: job.kinds,
      status: interrupted ? JobStatus.FAILED : job.status,
      total: job.total,
      completed: job.completed,
      failed: job.failed,
      percent: job.total > 0 ? ((job.completed + job.failed) / job.total) * 100 : finished.has(job.status) ? 100 : 0,
      message: interrupted ? interruptedMessage : job.message,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    };
  }

  /** Stops the runs of this process: their model calls are aborted and their jobs marked FAILED. */
  async close(): Promise<void> {
    for (const { controller } of this.running.values()) controller.abort();
    await Promise.allSettled([...this.running.values()].map((entry) => entry.done));
  }

  private async execute(
    job: CampaignJob,
    em: GenerationRun['em'],
    run: GenerationRun,
    request: { kinds: AssetKind[]; regenerate: AssetKind[]; website: Awaited<ReturnType<AssetOrchestrator['gatherWebsite']>> },
  ): Promise<void> {
    // Steps may end together; their progress writes go one after the other on the job's EntityManager.
    let writes: Promise<void> = Promise.resolve();
    const update = (changes: Partial<CampaignJob> | (() => Partial<CampaignJob>)) => {
      writes = writes.then(async () => {
        em.assign(job, (typeof changes === 'function' ? changes() : changes) as never);
        await em.flush();
      });
      return writes;
    };
    await update({ status: JobStatus.RUNNING, startedAt: new Date(), message: 'Planning.' });
    try {
      const outcome = await this.options.orchestrator.generate(run, job.campaignId, {
        kinds: request.kinds,
        regenerate: request.regenerate,
        website: gatheredWebsiteContext(request.website),
        onStep: (event) => update(() => progressOf(job, event)),
      });
      if (run.signal?.aborted) return await update({ status: JobStatus.FAILED, finishedAt: new Date(), message: stoppedMessage });
      const failed = outcome.failures.length > 0;
      await update({
        status: failed ? JobStatus.FAILED : JobStatus.SUCCEEDED,
        finishedAt: new Date(),
        message: failed
          ? outcome.failures.map((failure) => failure.error).join(' ')
          : outcome.built.size === 0
            ? 'Nothing to build: every asset asked for is ready.'
            : `Built ${[...outcome.built.keys()].join(', ')}.`,
      });
    } catch (error) {
      run.logger.warn({ err: error }, 'a campaign job failed');
      await update({
        status: JobStatus.FAILED,
        finishedAt: new Date(),
        message: error instanceof GraphQLError ? error.message : 'The job failed because of an internal error. Run generateCampaign again.',
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** What a step changes in the job's progress. */
function progressOf(job: CampaignJob, event: GenerationEvent): Partial<CampaignJob> {
  switch (event.type) {
    case 'planned':
      return { total: event.steps.length, message: event.steps.length === 0 ? 'Nothing to build.' : `Building ${event.steps.map((step) => step.kind).join(', ')}.` };
    case 'started':
      return { message: `Building ${event.kind} (${job.completed + job.failed + 1} of ${job.total}).` };
    case 'succeeded':
      return { completed: job.completed + 1, message: `Built ${event.kind} (version ${event.version}).` };
    case 'failed':
      return { failed: job.failed + 1, message: event.error };
  }
}
