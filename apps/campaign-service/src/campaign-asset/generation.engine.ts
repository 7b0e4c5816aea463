import type { Llm } from '@gtm/llm';
import { badUserInput, upstreamUnavailable, type SubgraphContext } from '@gtm/runtime';
import { buildOrderOf, type AssetKind } from '../assets/index.js';
import type { Campaign } from '../campaign/campaign.entity.js';
import { ContentServiceError, retrievalQueriesFor, WebsiteAnalysisError, type WebsiteContext, type WebsiteContextSource } from '../website/website-context.js';
import type { CampaignAssetRepository } from './campaign-asset.repository.js';
import { planGeneration, snapshotsOf, type GenerationPlan } from './generation.plan.js';
import { GenerationRun, type GenerationContext, type RunOptions, type StoredAssets } from './generation.run.js';

export interface GenerationRequest extends RunOptions {
  /** The kinds that must be present afterwards; their prerequisites are assessed too. */
  kinds: readonly AssetKind[];
  /** Kinds rebuilt even when ready. Default: none. */
  regenerate?: readonly AssetKind[];
  /** Where the website is read, when the plan needs it. */
  website: WebsiteContextSource;
}

/** A plan and what it was made from. */
export interface PlannedGeneration {
  plan: GenerationPlan;
  /** What the steps are built from; null when nothing needs building. */
  website: WebsiteContext | null;
  stored: StoredAssets;
}

export interface GenerationOutcome {
  plan: GenerationPlan;
  /** The version each built kind got. */
  built: Map<AssetKind, number>;
  /** Kinds that could not be built, with what the user is told. */
  failures: Array<{ kind: AssetKind; error: string }>;
  /** Kinds that went STALE because something they are built on changed. */
  staled: AssetKind[];
}

export interface GenerationEngineOptions {
  llm: Llm;
  repository: CampaignAssetRepository;
  /** Below this confidence an asset is weak (rebuilt when something can make it better). Default: 0.5. */
  weakConfidence?: number;
}

/** The generation context of a request: its EntityManager, tenant and caller (for metering). */
export function requestGeneration(context: SubgraphContext<unknown>): GenerationContext {
  const { caller } = context;
  return { em: context.em, tenantId: caller.tenantId, attribution: { tenantId: caller.tenantId, keyId: caller.keyId, requestId: caller.requestId }, logger: context.logger };
}

/**
 * Builds a campaign's assets (decision 0020), for `generateAsset`, corrections, the ICP and the
 * `generateCampaign` job alike, in three stages:
 *
 * 1. **plan** what to build for the kinds asked (missing, failed, stale, weak and improvable,
 *    asked for by name, and whatever is built on those, in build order) and read the website the
 *    steps need, once, while the caller's token is valid;
 * 2. **build** each step in order (`GenerationRun.build`: the prompt, the model call, the user's
 *    word, grounding), on the steps before it;
 * 3. **record** each built step as a new version (`GenerationRun.record`), making what is built
 *    on it STALE.
 *
 * `generate` runs the three for a request; a job plans in its request and builds and records one
 * step per item on the worker (campaign-job/campaign-job.kind.ts). Either way a step's version is
 * written while the next step's model call is already out, writes one after the other in order.
 */
export class GenerationEngine {
  /** Below this confidence an asset is weak. */
  readonly weakConfidence: number;

  constructor(private readonly options: GenerationEngineOptions) {
    this.weakConfidence = options.weakConfidence ?? 0.5;
  }

  /** Whether a language model, not only the offline provider, can answer now. */
  modelAvailable(): boolean {
    return this.options.llm.providerStates().some((provider) => provider.provider !== 'offline' && provider.circuit !== 'open');
  }

  /**
   * The plan for `request.kinds` and the website it needs. Planned once without the website
   * first: when nothing needs building, and no weak asset could gain from a newer analysis, the
   * website is not read at all. A website that cannot be used is recorded on the campaign and on
   * the planned assets (FAILED) and thrown as an error that says what to do.
   */
  async plan(context: GenerationContext, campaign: Campaign, request: Pick<GenerationRequest, 'kinds' | 'regenerate' | 'website'>): Promise<PlannedGeneration> {
    const { repository } = this.options;
    const [records, corrections] = await Promise.all([repository.load(context.em, campaign.id), repository.corrections(context.em, campaign.id)]);
    const stored = { records, corrections };
    const planInput = { assets: snapshotsOf(records), kinds: request.kinds, regenerate: request.regenerate, weakConfidence: this.weakConfidence, modelAvailable: this.modelAvailable() };
    const firstPlan = planGeneration(planInput);
    if (firstPlan.steps.length === 0 && firstPlan.weakKept.length === 0) return { plan: firstPlan, website: null, stored };
    const website = await this.readWebsite(context, campaign, request, firstPlan);
    const plan = planGeneration({ ...planInput, websiteAnalyzedAt: website.analyzedAt });
    return { plan, website: plan.steps.length === 0 ? null : website, stored };
  }

  /** A run over planned steps: built from `website`, on the assets as `stored` (a job reads them with `refresh` before each step). */
  start(context: GenerationContext, campaign: Campaign, website: WebsiteContext, stored: StoredAssets, options: RunOptions = {}): GenerationRun {
    const dependencies = { llm: this.options.llm, repository: this.options.repository, weakConfidence: this.weakConfidence, modelAvailable: () => this.modelAvailable() };
    return new GenerationRun(dependencies, context, campaign, website, stored, options);
  }

  /**
   * Plans, builds each step in order and records it: what `request.kinds` need, now. A step that
   * fails is recorded on its asset (FAILED, with why) and returned in `failures`, and the steps
   * built on it are not built; the others go on.
   */
  async generate(context: GenerationContext, campaign: Campaign, request: GenerationRequest): Promise<GenerationOutcome> {
    const { plan, website, stored } = await this.plan(context, campaign, request);
    if (!website) return { plan, built: new Map(), failures: [], staled: [] };
    const run = this.start(context, campaign, website, stored, request);
    const kinds = plan.steps.map((step) => step.kind);
    const errors = new Map<AssetKind, string>();
    const staled = new Set<AssetKind>();

    // The model calls are the critical path. Each version is written while the next step's call
    // is out, the writes one after the other in build order, so each knows the versions it is
    // built on. Readers see the planned assets GENERATING from the first write on.
    const marked = this.options.repository.markGenerating(context.em, context.tenantId, campaign.id, kinds);
    let writes: Promise<void> = marked.catch(() => undefined);
    for (const [position, step] of plan.steps.entries()) {
      const result = await run.build(step);
      if (result.status === 'failed') {
        errors.set(step.kind, result.error);
        continue;
      }
      writes = writes.then(async () => {
        try {
          const recorded = await run.record(context.em, result.draft, kinds.slice(position + 1));
          for (const kind of recorded.staled) staled.add(kind);
        } catch (error) {
          errors.set(step.kind, run.describeFailure(step.kind, error));
        }
      });
    }
    await writes;
    await marked;

    const failures = kinds.filter((kind) => errors.has(kind)).map((kind) => ({ kind, error: errors.get(kind)! }));
    await this.options.repository.markFailed(context.em, context.tenantId, campaign.id, failures);
    const built = run.versions();
    for (const kind of built.keys()) staled.delete(kind);
    return { plan, built, failures, staled: [...staled] };
  }

  /**
   * The website's analysis and the passages of every kind the request may build (prerequisites
   * included), in one call: the caller's token is only valid for a minute, so a run reads
   * everything it needs before its first model call.
   */
  private async readWebsite(context: GenerationContext, campaign: Campaign, request: Pick<GenerationRequest, 'kinds' | 'website'>, plan: GenerationPlan): Promise<WebsiteContext> {
    let website: WebsiteContext;
    try {
      website = await request.website.load(campaign.websiteUrl, retrievalQueriesFor(buildOrderOf(request.kinds)));
      // With nothing on the site, only the user's own description can carry the campaign.
      if (Object.values(website.searches).every((passages) => passages.length === 0) && !campaign.userContext) {
        throw new WebsiteAnalysisError('EMPTY', `The analysis found no text to build on${website.quality.gaps.length > 0 ? ` (${website.quality.gaps.join(' ')})` : ''}.`);
      }
    } catch (error) {
      if (error instanceof ContentServiceError) {
        context.logger.warn({ err: error, campaignId: campaign.id }, 'content-service could not give the website context');
        throw upstreamUnavailable('The website analysis service did not answer, so nothing was generated. Try again in a minute.', { service: 'content' });
      }
      if (!(error instanceof WebsiteAnalysisError)) throw error;
      const message = websiteProblemMessage(campaign.websiteUrl, error);
      await this.recordWebsiteError(context, campaign, message);
      await this.options.repository.markFailed(context.em, context.tenantId, campaign.id, plan.steps.map((step) => ({ kind: step.kind, error: message })));
      throw error.problem === 'UNREACHABLE' ? upstreamUnavailable(message, { websiteUrl: campaign.websiteUrl }) : badUserInput(message, undefined, { websiteUrl: campaign.websiteUrl });
    }
    if (campaign.websiteError !== null) await this.recordWebsiteError(context, campaign, null);
    return website;
  }

  /** Sets the campaign's `websiteError` on the entity the caller holds, so it reads the campaign as it now is without reading it again. */
  private async recordWebsiteError(context: GenerationContext, campaign: Campaign, message: string | null): Promise<void> {
    campaign.websiteError = message;
    await context.em.flush();
  }
}

/** A generation whose steps failed is an error for the caller; each failure is also on its asset. */
export function throwOnFailures(outcome: GenerationOutcome): void {
  if (outcome.failures.length === 0) return;
  throw upstreamUnavailable(outcome.failures.map((failure) => failure.error).join(' '), { failures: outcome.failures });
}

/** What the user reads when the website cannot be used, with what to do about it. */
function websiteProblemMessage(websiteUrl: string, error: WebsiteAnalysisError): string {
  const reason = error.message.replace(/\.?\s*$/, '.');
  switch (error.problem) {
    case 'UNREACHABLE':
      return `${websiteUrl} could not be analysed: ${reason} Check that the site is up and the address is right, then generate again.`;
    case 'EMPTY':
      return `${websiteUrl} was analysed, but ${reason.charAt(0).toLowerCase()}${reason.slice(1)} Create the campaign for a page that describes the offer, or with a userContext that describes it.`;
    default:
      return `${websiteUrl} could not be analysed: ${reason} Check the address (it must be a public website that allows crawling), or create the campaign for another page of the site.`;
  }
}
