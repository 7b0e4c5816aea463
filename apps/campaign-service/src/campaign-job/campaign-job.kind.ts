import { defineJobKind, JobItem, JobStatus, type JobAttempt } from '@gtm/jobs';
import type { AssetKind } from '../assets/index.js';
import type { CampaignAssetRepository } from '../campaign-asset/campaign-asset.repository.js';
import type { GenerationEngine } from '../campaign-asset/generation.engine.js';
import type { PlannedStep } from '../campaign-asset/generation.plan.js';
import type { GenerationRun } from '../campaign-asset/generation.run.js';
import { Campaign } from '../campaign/campaign.entity.js';
import { websiteContextFromStorage } from '../website/website-context.js';
import { CampaignJob, campaignJobKind } from './campaign-job.entity.js';

export interface CampaignJobKindOptions {
  engine: GenerationEngine;
  repository: CampaignAssetRepository;
  /** Runs of a job before it is FAILED; a model that is down for a while is waited for this long. Default: 3. */
  maxAttempts?: number;
}

export const nothingToBuild = 'Nothing to build: every asset asked for is ready.';

/** What one attempt of a job keeps: its generation run, and the steps another run built first. */
interface Attempt {
  generation: GenerationRun;
  builtElsewhere: Set<AssetKind>;
}

function positionOf(job: CampaignJob, step: PlannedStep): number {
  return job.steps.findIndex((planned) => planned.kind === step.kind);
}

/**
 * How a generateCampaign job runs: the generation engine's build and record, one item per planned
 * step, in build order. The request planned the steps and read the website (the job row keeps
 * both); each item builds its step (the model call, outside any transaction) and records the
 * version in the item's transaction, so a step is stored once however often the job is retried or
 * resumed. Pipelined: a step's model call starts while the previous step's version commits, as in
 * `GenerationEngine.generate`. A step that fails for good fails the steps built on it; a model
 * that is unavailable fails the attempt instead, and the job retries later from where it stopped,
 * until its last attempt, which records the failure on the asset.
 */
export function createCampaignJobKind(options: CampaignJobKindOptions) {
  const { engine, repository } = options;
  return defineJobKind<PlannedStep, CampaignJob, Attempt | null>({
    kind: campaignJobKind,
    entity: CampaignJob,
    // One generation of a campaign at a time: two would build the same assets over each other.
    queueOf: (job) => `campaign:${job.campaignId}`,
    maxAttempts: options.maxAttempts ?? 3,
    pipeline: true,
    async startAttempt({ job, em, logger, signal }: JobAttempt<CampaignJob>) {
      if (job.steps.length === 0) return null;
      // The website context is a lazy column: read once per attempt, here.
      const [{ website }, campaign] = await Promise.all([em.fork().findOneOrFail(CampaignJob, { id: job.id }, { populate: ['website'] }), em.findOneOrFail(Campaign, { id: job.campaignId })]);
      if (!website) throw new Error(`campaign job ${job.id} has steps but no website context`);
      const context = { em, tenantId: job.tenantId, attribution: job.attribution, logger, signal };
      // What is stored is read before each step (`refresh`), not here.
      const generation = engine.start(context, campaign, websiteContextFromStorage(website), { records: [], corrections: [] });
      return { generation, builtElsewhere: new Set<AssetKind>() };
    },
    // The request marked the steps GENERATING; each stays so until built or failed, across retries.
    items: ({ job }) => job.steps,
    itemKey: (step) => step.kind,
    describeItem: (step, { job }) => `Building ${step.kind} (${positionOf(job, step) + 1} of ${job.steps.length}).`,
    async processItem(step, context) {
      const { job } = context;
      const { generation, builtElsewhere } = context.state!;
      // The step may have waited (for the queue, a retry): another run may have built it meanwhile.
      await generation.refresh();
      if (!generation.stillNeeded(step)) {
        builtElsewhere.add(step.kind);
        return { outcome: 'completed', message: `${step.kind} was already built by another run.` };
      }
      const result = await generation.build(step);
      if (result.status === 'built') {
        const { draft } = result;
        const later = job.steps.slice(positionOf(job, step) + 1).map((planned) => planned.kind);
        return {
          outcome: 'completed',
          message: `Built ${step.kind} (${draft.provider}, confidence ${draft.confidence.toFixed(2)}).`,
          save: async (transaction) => void (await generation.record(transaction, draft, later)),
        };
      }
      // Cut short by the shutdown: the job is handed back and the step runs again elsewhere.
      if (context.signal.aborted) throw result.cause;
      // Worth another attempt later (the model is down or rate limited): the job waits and resumes here.
      if (result.retryable && context.attempt < context.maxAttempts) throw result.cause;
      return {
        outcome: 'failed',
        message: result.error,
        save: (transaction) => repository.markFailed(transaction, job.tenantId, job.campaignId, [{ kind: step.kind, error: result.error }]),
      };
    },
    async conclude({ job, em, state }) {
      if (job.steps.length === 0) return { message: nothingToBuild };
      const items = await em.fork().find(JobItem, { jobId: job.id });
      const failed = job.steps.filter((step) => items.some((item) => item.itemKey === step.kind && item.outcome === 'failed'));
      if (failed.length === 0) {
        // Steps of an earlier attempt are not in this one's memory: they count as built by this job.
        const elsewhere = job.steps.filter((step) => state?.builtElsewhere.has(step.kind)).map((step) => step.kind);
        const built = job.steps.filter((step) => !elsewhere.includes(step.kind)).map((step) => step.kind);
        const elsewhereNote = `${elsewhere.join(', ')} ${elsewhere.length === 1 ? 'was' : 'were'} built by another run meanwhile.`;
        if (built.length === 0) return { message: `Nothing to build: ${elsewhereNote}` };
        return { message: `Built ${built.join(', ')}.${elsewhere.length > 0 ? ` ${elsewhereNote}` : ''}` };
      }
      const records = await repository.load(em, job.campaignId);
      const reasons = failed.map((step) => records.find((record) => record.kind === step.kind)?.error ?? `${step.kind} could not be built.`);
      return { status: JobStatus.FAILED, message: [...new Set(reasons)].join(' ') };
    },
  });
}
