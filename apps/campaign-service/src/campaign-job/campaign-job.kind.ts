import { defineJobKind, JobItem, JobStatus } from '@gtm/jobs';
import type { CampaignAssetRepository } from '../campaign-asset/campaign-asset.repository.js';
import type { AssetKind } from '../assets/index.js';
import type { AssetOrchestrator, BuiltStep, GenerationRun } from '../generation/asset-orchestrator.js';
import type { PlannedStep } from '../generation/generation-plan.js';
import { websiteContextFromStorage, type WebsiteContext } from '../generation/website-context.js';
import { CampaignJob, campaignJobKind } from './campaign-job.entity.js';

export interface CampaignJobKindOptions {
  orchestrator: AssetOrchestrator;
  repository: CampaignAssetRepository;
  /** Runs of a job before it is FAILED; a model that is down for a while is waited for this long. Default: 3. */
  maxAttempts?: number;
}

export const nothingToBuild = 'Nothing to build: every asset asked for is ready.';

/** The job's run: its tenant, and its requester's attribution for every model call. */
function runOf(job: CampaignJob, context: { em: GenerationRun['em']; logger: GenerationRun['logger']; signal: AbortSignal }): GenerationRun {
  return { em: context.em, tenantId: job.tenantId, attribution: job.attribution, logger: context.logger, signal: context.signal };
}

/** What one attempt of a job keeps in memory: the website it read, and what its steps came to. */
interface RunMemory {
  website: WebsiteContext;
  built: Map<AssetKind, BuiltStep>;
  failed: Set<AssetKind>;
  /** Steps another run built meanwhile, so this one did not. */
  ready: Set<AssetKind>;
}

// Per attempt (a retry or a resumed run gets a new job object and starts from what is stored).
const runMemories = new WeakMap<CampaignJob, RunMemory>();

function runMemoryOf(job: CampaignJob): RunMemory {
  const memory = runMemories.get(job);
  if (!memory) throw new Error(`campaign job ${job.id} is processed before its items were listed`);
  return memory;
}

function positionOf(job: CampaignJob, step: PlannedStep): number {
  return job.steps.findIndex((planned) => planned.kind === step.kind);
}

/**
 * How a generateCampaign job runs: one item per planned step, in build order, each a model call
 * whose version is written in the item's transaction (so a step is stored once, however often the
 * job is retried or resumed). A step that fails for good fails the steps built on it; a model
 * that is unavailable fails the attempt instead, and the job retries later from where it stopped,
 * until its last attempt, which records the failure on the asset.
 */
export function createCampaignJobKind(options: CampaignJobKindOptions) {
  const { orchestrator, repository } = options;
  return defineJobKind<PlannedStep, CampaignJob>({
    kind: campaignJobKind,
    entity: CampaignJob,
    // One generation of a campaign at a time: two would build the same assets over each other.
    queueOf: (job) => `campaign:${job.campaignId}`,
    maxAttempts: options.maxAttempts ?? 3,
    // A step's model call starts while the previous step's version commits: it reads that version
    // from memory, and its own write fills in the version number once the previous one is known.
    pipeline: true,
    // The request marked the steps GENERATING; each stays so until built or failed, across retries.
    async *items({ job, em }) {
      if (job.steps.length === 0) return;
      // The website context is a lazy column: read once per attempt, here.
      const { website } = await em.fork().findOneOrFail(CampaignJob, { id: job.id }, { populate: ['website'] });
      if (!website) throw new Error(`campaign job ${job.id} has steps but no website context`);
      runMemories.set(job, { website: websiteContextFromStorage(website), built: new Map(), failed: new Set(), ready: new Set() });
      yield* job.steps;
    },
    itemKey: (step) => step.kind,
    describeItem: (step, { job }) => `Building ${step.kind} (${positionOf(job, step) + 1} of ${job.steps.length}).`,
    async processItem(step, context) {
      const { job } = context;
      const memory = runMemoryOf(job);
      const result = await orchestrator.buildStep(runOf(job, context), job.campaignId, step, {
        website: memory.website,
        rebuilding: job.steps.slice(positionOf(job, step) + 1).map((later) => later.kind),
        earlier: memory,
      });
      switch (result.status) {
        case 'built': {
          const built: BuiltStep = { content: result.draft.content, passages: result.draft.passages, instructions: result.draft.instructions, version: null };
          memory.built.set(step.kind, built);
          return {
            outcome: 'completed',
            message: `Built ${step.kind} (${result.draft.provider}, confidence ${result.draft.confidence.toFixed(2)}).`,
            save: async (transaction) => {
              built.version = (await result.record(transaction)).version.version;
            },
          };
        }
        case 'ready':
          memory.ready.add(step.kind);
          return { outcome: 'completed', message: `${step.kind} was already built by another run.` };
        case 'failed':
          // Cut short by the shutdown: the job is handed back and the step runs again elsewhere.
          if (context.signal.aborted) throw result.cause;
          // Worth another attempt later (the model is down or rate limited): the job waits and resumes here.
          if (result.retryable && context.attempt < context.maxAttempts) throw result.cause;
          memory.failed.add(step.kind);
          return {
            outcome: 'failed',
            message: result.error,
            save: (transaction) => repository.markFailed(transaction, job.tenantId, job.campaignId, [{ kind: step.kind, error: result.error }]),
          };
      }
    },
    async conclude({ job, em }) {
      if (job.steps.length === 0) return { message: nothingToBuild };
      const items = await em.fork().find(JobItem, { jobId: job.id });
      const failed = job.steps.filter((step) => items.some((item) => item.itemKey === step.kind && item.outcome === 'failed'));
      if (failed.length === 0) {
        // Steps of an earlier attempt are not in this one's memory: they count as built by this job.
        const ready = job.steps.filter((step) => runMemories.get(job)?.ready.has(step.kind)).map((step) => step.kind);
        const built = job.steps.filter((step) => !ready.includes(step.kind)).map((step) => step.kind);
        const readyNote = `${ready.join(', ')} ${ready.length === 1 ? 'was' : 'were'} built by another run meanwhile.`;
        if (built.length === 0) return { message: `Nothing to build: ${readyNote}` };
        return { message: `Built ${built.join(', ')}.${ready.length > 0 ? ` ${readyNote}` : ''}` };
      }
      const records = await repository.load(em, job.campaignId);
      const reasons = failed.map((step) => records.find((record) => record.kind === step.kind)?.error ?? `${step.kind} could not be built.`);
      return { status: JobStatus.FAILED, message: [...new Set(reasons)].join(' ') };
    },
  });
}
