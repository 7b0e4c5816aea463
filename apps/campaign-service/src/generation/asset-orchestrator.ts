import { LlmAbortedError, LlmError, LlmUnavailableError, type Llm, type LlmAttribution } from '@gtm/llm';
import { badUserInput, notFound, upstreamUnavailable, type EntityManager, type Logger } from '@gtm/runtime';
import {
  AssetFieldError,
  AssetKind,
  applyUserContext,
  assetSchemaOf,
  assetTaskOf,
  buildOrderOf,
  checkGrounding,
  dropUnsupportedSources,
  groundedConfidence,
  prerequisitesOf,
  setFieldAtPath,
  transitivePrerequisitesOf,
  type Asset,
  type AssetContext,
  type GroundingReport,
  type WebsitePassage,
} from '../assets/index.js';
import { AssetOrigin, AssetState, CorrectionScope, type AssetBasis, type CampaignCorrection, type GroundingSummary, type UsedPassage } from '../campaign-asset/campaign-asset.entity.js';
import type { AssetRecord, CampaignAssetRepository, RecordedVersion, VersionDraft } from '../campaign-asset/campaign-asset.repository.js';
import { Campaign } from '../campaign/campaign.entity.js';
import { runInDependencyOrder } from './dependency-scheduler.js';
import { planGeneration, StepReason, type AssetSnapshot, type GenerationPlan, type PlannedStep } from './generation-plan.js';
import {
  companyNameFromTitle,
  ContentServiceError,
  distinctPassages,
  gatheredWebsiteContext,
  passagesForKind,
  retrievalQueriesFor,
  WebsiteAnalysisError,
  type WebsiteContext,
  type WebsiteContextSource,
} from './website-context.js';

/** Who a run works for and with what: a request's, or a background job's. */
export interface GenerationRun {
  /** Scoped to the tenant; the run writes on forks of it. */
  em: EntityManager;
  tenantId: string;
  /** Put on every LLM usage record (metering, the LLM budget). */
  attribution: LlmAttribution;
  logger: Logger;
  /** Aborts the model calls in flight: the steps it stops, and those waiting on them, are marked FAILED (cancelled). */
  signal?: AbortSignal;
}

export interface GenerationRequest {
  /** The kinds that must be present afterwards; their prerequisites are assessed too. */
  kinds: readonly AssetKind[];
  /** Kinds rebuilt even when ready. Default: none. */
  regenerate?: readonly AssetKind[];
  /** Instructions for one generation of a kind. A rebuild without new ones keeps those the asset was built with. */
  instructions?: Partial<Record<AssetKind, string | null>>;
  /** Kinds whose new version records itself as a global correction. Default: none. */
  globalCorrections?: readonly AssetKind[];
  /** Kinds that fail rather than store an offline answer (their instructions need a model). Default: none. */
  requireModel?: readonly AssetKind[];
  website: WebsiteContextSource;
  /** Progress, for a job's snapshot: awaited, so a slow listener slows the run. Default: none. */
  onStep?: (event: GenerationEvent) => void | Promise<void>;
}

export type GenerationEvent =
  | { type: 'planned'; steps: PlannedStep[]; weakKept: AssetKind[] }
  | { type: 'started'; kind: AssetKind }
  | { type: 'succeeded'; kind: AssetKind; version: number; confidence: number; provider: string }
  | { type: 'failed'; kind: AssetKind; error: string };

export interface GenerationOutcome {
  plan: GenerationPlan;
  /** The version each built kind got. */
  built: Map<AssetKind, number>;
  /** Kinds that could not be built, with what the user is told. */
  failures: Array<{ kind: AssetKind; error: string }>;
  /** Kinds that went STALE because something they are built on changed. */
  staled: AssetKind[];
}

/** An asset a job built earlier in the same run, kept in memory until (and after) its item commits. */
export interface BuiltStep {
  content: Asset;
  passages: UsedPassage[];
  instructions: string | null;
  /** Its version, set by its item's `save`; null until then. */
  version: number | null;
}

/** What a job's earlier steps of this run came to: what the database may not show yet. */
export interface EarlierSteps {
  built: ReadonlyMap<AssetKind, BuiltStep>;
  failed: ReadonlySet<AssetKind>;
}

/** How one step of a generation job went (`AssetOrchestrator.buildStep`). */
export type StepResult =
  /** Built: `record` stores the version (and stales what is built on it) in the given transaction. */
  | { status: 'built'; draft: VersionDraft; record: (transaction: EntityManager) => Promise<RecordedVersion> }
  /** Nothing to build: the asset is ready and sound. */
  | { status: 'ready' }
  /** Not built. `error` is for the user; `retryable` says whether trying again later may succeed. */
  | { status: 'failed'; error: string; retryable: boolean; cause: unknown };

export interface AssetOrchestratorOptions {
  llm: Llm;
  repository: CampaignAssetRepository;
  /** Below this confidence a prerequisite is weak (rebuilt when something can make it better). Default: 0.5. */
  weakConfidence?: number;
  /** Steps run at once at most, when the plan has independent ones. Default: 3. */
  concurrency?: number;
}

/** The model the offline provider reports, for assets it built. */
const offlineProvider = 'offline';

/** Website quality levels too thin to build on without saying so. */
const thinWebsiteLevels = new Set(['INSUFFICIENT', 'MISSING']);

/** A step that cannot honour its instructions without a model. */
class ModelRequiredError extends Error {
  override readonly name = 'ModelRequiredError';
}

/** What a run knows about one asset while it runs: as stored, or as just built (its version not yet written). */
interface RunAsset {
  content: Asset | null;
  /** Null while its new version waits to be written. */
  version: number | null;
  passages: UsedPassage[];
  instructions: string | null;
}

/** A version was not written because one it is built on could not be. */
class NotStoredError extends Error {
  override readonly name = 'NotStoredError';

  constructor(readonly kind: AssetKind) {
    super(`${kind} could not be stored`);
  }
}

/**
 * The context orchestrator (issue 7). For the kinds asked, it assesses what is there (state,
 * confidence, what each version was built on), plans what to build — missing, failed, stale, weak
 * and improvable, or asked for by name, and whatever is built on those — and builds it in
 * dependency order, independent steps concurrently. Each step gets the website passages of its
 * kind, its prerequisites' content, the user's notes and corrections (user > generated > website),
 * is grounded against the passages and stored as a new version with what it was built on; the
 * assets built on it go STALE. The website is read once per run, before the first step.
 *
 * It drives a request (`generateAsset`) and is written to be driven by a job: `generate` takes the
 * run's tenant, EntityManager and website source, and reports each step through `onStep`.
 */
export class AssetOrchestrator {
  /** Below this confidence an asset is weak. */
  readonly weakConfidence: number;
  private readonly concurrency: number;

  constructor(private readonly options: AssetOrchestratorOptions) {
    this.weakConfidence = options.weakConfidence ?? 0.5;
    this.concurrency = options.concurrency ?? 3;
  }

  /** Whether a language model, not only the offline provider, can answer now. */
  modelAvailable(): boolean {
    return this.options.llm.providerStates().some((provider) => provider.provider !== offlineProvider && provider.circuit !== 'open');
  }

  /**
   * Builds what `request.kinds` need. Website problems are recorded on the campaign and thrown as
   * a GraphQLError that says what to do; a step's failure is recorded on its asset (FAILED, with
   * why) and returned in `failures`, the other steps going on where they can.
   */
  async generate(run: GenerationRun, campaignId: string, request: GenerationRequest): Promise<GenerationOutcome> {
    const [{ campaign, records, plan, website }, corrections] = await Promise.all([this.planRun(run, campaignId, request), this.options.repository.corrections(run.em, campaignId)]);
    await request.onStep?.({ type: 'planned', steps: plan.steps, weakKept: plan.weakKept });
    if (!website || plan.steps.length === 0) return { plan, built: new Map(), failures: [], staled: [] };

    const assets = runAssetsOf(records);
    const plannedKinds = plan.steps.map((step) => step.kind);
    const stepsByKind = new Map(plan.steps.map((step) => [step.kind, step]));
    const built = new Map<AssetKind, number>();
    const staled = new Set<AssetKind>();

    // The model calls are the critical path; the bookkeeping runs beside them. A step hands its
    // version to this queue and its dependents start their model call at once; the writes go one
    // at a time, in the order the steps finished, so each knows the versions it is built on.
    let writes: Promise<unknown> = Promise.resolve();
    const enqueue = <Result>(write: () => Promise<Result>): Promise<Result> => {
      const next = writes.then(write, write);
      writes = next.catch(() => undefined);
      return next;
    };
    const marked = enqueue(() => this.options.repository.markGenerating(run.em, run.tenantId, campaignId, plannedKinds));
    const stored = new Map<AssetKind, Promise<void>>();

    const outcomes = await runInDependencyOrder(
      plannedKinds,
      (kind) => stepsByKind.get(kind)!.waitsFor,
      async (kind) => {
        await request.onStep?.({ type: 'started', kind });
        const draft = await this.buildVersion(run, campaign, kind, stepsByKind.get(kind)!, assets, website, corrections, request);
        assets.set(kind, { content: draft.content, version: null, passages: draft.passages, instructions: draft.instructions });
        const write = enqueue(async () => {
          // Its prerequisites built in this run were written before it: their version numbers are known now.
          for (const prerequisite of prerequisitesOf(kind)) {
            if (!stepsByKind.has(prerequisite)) continue;
            const version = built.get(prerequisite);
            if (version === undefined) throw new NotStoredError(prerequisite);
            draft.basedOn[prerequisite] = version;
          }
          const stillToBuild = plannedKinds.filter((other) => !built.has(other) && other !== kind);
          const recorded = await this.options.repository.recordVersion(run.em, run.tenantId, campaignId, draft, stillToBuild);
          built.set(kind, recorded.version.version);
          for (const stale of recorded.staled) staled.add(stale);
          await request.onStep?.({ type: 'succeeded', kind, version: recorded.version.version, confidence: draft.confidence, provider: draft.provider });
        });
        // Failures are read from the settled writes below; this keeps an early one from going unhandled.
        write.catch(() => undefined);
        stored.set(kind, write);
      },
      { concurrency: this.concurrency },
    );
    await marked;
    const writeErrors = new Map<AssetKind, unknown>();
    await Promise.all([...stored].map(([kind, write]) => write.catch((error: unknown) => void writeErrors.set(kind, error))));

    const failures: GenerationOutcome['failures'] = [];
    for (const kind of plannedKinds) {
      const outcome = outcomes.get(kind)!;
      const writeError = writeErrors.get(kind);
      let error: string | null = null;
      if (outcome.status === 'failed') error = this.describeFailure(run, kind, outcome.error);
      else if (outcome.status === 'skipped') error = `Not built: ${outcome.because}, which it is built on, could not be built.`;
      else if (writeError instanceof NotStoredError) error = `Not stored: ${writeError.kind}, which it is built on, could not be stored.`;
      else if (writeError !== undefined) error = this.describeFailure(run, kind, writeError);
      if (error === null) continue;
      failures.push({ kind, error });
      await request.onStep?.({ type: 'failed', kind, error });
    }
    await this.options.repository.markFailed(run.em, run.tenantId, campaignId, failures);
    for (const kind of built.keys()) staled.delete(kind);
    return { plan, built, failures, staled: [...staled] };
  }

  /**
   * Plans a generation job (`generateCampaign`) as `generate` plans a run, and reads the website
   * the plan needs while the caller's token is valid: the job's worker builds each step later with
   * `buildStep`, from what this returns. Website problems are recorded and thrown as in `generate`.
   * `website` is null when nothing needs building.
   */
  async planJob(
    run: GenerationRun,
    campaignId: string,
    request: { kinds: readonly AssetKind[]; regenerate: readonly AssetKind[]; website: WebsiteContextSource },
  ): Promise<{ plan: GenerationPlan; website: WebsiteContext | null }> {
    const { plan, website } = await this.planRun(run, campaignId, request);
    return { plan, website: plan.steps.length === 0 ? null : website };
  }

  /**
   * The plan of a run (`generate`'s, a job's) and the website it needs. Planned once without the
   * website first: when nothing needs building, and no weak asset could gain from a newer
   * analysis, the content service is not asked at all (`website` is null). Website problems are
   * recorded and thrown (`readWebsite`).
   */
  private async planRun(
    run: GenerationRun,
    campaignId: string,
    request: { kinds: readonly AssetKind[]; regenerate?: readonly AssetKind[]; website: WebsiteContextSource },
  ): Promise<{ campaign: Campaign; records: AssetRecord[]; plan: GenerationPlan; website: WebsiteContext | null }> {
    const [campaign, records] = await Promise.all([run.em.fork().findOne(Campaign, { id: campaignId }), this.options.repository.load(run.em, campaignId)]);
    if (!campaign) throw notFound('Campaign', campaignId);
    const planInput = { assets: snapshotsOf(records), kinds: request.kinds, regenerate: request.regenerate, weakConfidence: this.weakConfidence, modelAvailable: this.modelAvailable() };
    const firstPlan = planGeneration(planInput);
    if (firstPlan.steps.length === 0 && firstPlan.weakKept.length === 0) return { campaign, records, plan: firstPlan, website: null };
    const website = await this.readWebsite(run, campaign, request.kinds, request.website, firstPlan);
    return { campaign, records, plan: planGeneration({ ...planInput, websiteAnalyzedAt: website.analyzedAt }), website };
  }

  /**
   * One step of a generation job, as `generate` runs one, on the campaign as it is now, except
   * that what this run built earlier (`earlier`) is taken from memory: the job is pipelined, so
   * the previous step may still be committing while this one calls the model. The slow part (the model
   * call) happens here; the result's `record` writes the version in the caller's transaction (the
   * job item's, so the version and the item commit together), leaving `rebuilding` (the job's later
   * steps) un-staled. A step whose asset became sound meanwhile (another run built it) is `ready`.
   * Nothing here throws for a step that cannot be built: the failure comes back with what to tell
   * the user and whether trying again later may help. The job's request marks its steps
   * GENERATING (an asset so marked and not built since reads as missing here, so it is built).
   */
  async buildStep(
    run: GenerationRun,
    campaignId: string,
    step: PlannedStep,
    request: { website: WebsiteContext; rebuilding: readonly AssetKind[]; earlier: EarlierSteps },
  ): Promise<StepResult> {
    const { earlier } = request;
    const { kind } = step;
    const [campaign, records, corrections] = await Promise.all([
      run.em.fork().findOne(Campaign, { id: campaignId }),
      this.options.repository.load(run.em, campaignId),
      this.options.repository.corrections(run.em, campaignId),
    ]);
    if (!campaign) return { status: 'failed', error: `Campaign ${campaignId} no longer exists.`, retryable: false, cause: null };
    const byKind = new Map(records.map((record) => [record.kind, record]));
    const blocker = step.waitsFor.find((prerequisite) => {
      if (earlier.failed.has(prerequisite)) return true;
      if (earlier.built.has(prerequisite)) return false;
      const record = byKind.get(prerequisite);
      return !record?.current || record.state === AssetState.FAILED;
    });
    if (blocker !== undefined) return { status: 'failed', error: `Not built: ${blocker}, which it is built on, could not be built.`, retryable: false, cause: null };

    // Asked for by name, or built on a prerequisite this run rebuilt: always. Otherwise only while
    // it still needs building: another run (a job queued before this one, a generateAsset) may
    // have built it since the job was planned, on the prerequisites as they are now.
    const current = byKind.get(kind)?.current ?? null;
    const builtOnOlder =
      current !== null && prerequisitesOf(kind).some((prerequisite) => current.basedOn[prerequisite] !== (byKind.get(prerequisite)?.current?.version ?? undefined));
    const needed =
      step.reason === StepReason.REQUESTED ||
      step.waitsFor.some((prerequisite) => earlier.built.has(prerequisite)) ||
      builtOnOlder ||
      planGeneration({
        assets: snapshotsOf(records),
        kinds: [kind],
        weakConfidence: this.weakConfidence,
        modelAvailable: this.modelAvailable(),
        websiteAnalyzedAt: request.website.analyzedAt,
      }).steps.some((planned) => planned.kind === kind);
    if (!needed) return { status: 'ready' };

    const assets = runAssetsOf(records);
    // What this run built is read from memory: its writes may not be committed yet.
    for (const [builtKind, built] of earlier.built) assets.set(builtKind, { content: built.content, version: null, passages: built.passages, instructions: built.instructions });
    try {
      const draft = await this.buildVersion(run, campaign, kind, step, assets, request.website, corrections, { kinds: [kind], website: gatheredWebsiteContext(request.website) });
      return {
        status: 'built',
        draft,
        record: (transaction) => {
          // The items before this one have committed by now, so their versions are known.
          for (const prerequisite of prerequisitesOf(kind)) {
            const built = earlier.built.get(prerequisite);
            if (!built) continue;
            if (built.version === null) throw new Error(`${prerequisite}, built earlier in this run, has no version yet`);
            draft.basedOn[prerequisite] = built.version;
          }
          return this.options.repository.recordVersion(transaction, run.tenantId, campaignId, draft, request.rebuilding);
        },
      };
    } catch (error) {
      return { status: 'failed', error: this.describeFailure(run, kind, error), retryable: error instanceof LlmError && error.isRetryable, cause: error };
    }
  }

  /**
   * The website's analysis and the passages of every kind the request may build (prerequisites
   * included), in one call: the caller's token is only valid for a minute, so the run reads
   * everything it needs before its first model call. On a website problem, the plan's kinds are
   * marked FAILED with what to do.
   */
  private async readWebsite(run: GenerationRun, campaign: Campaign, kinds: readonly AssetKind[], source: WebsiteContextSource, plan: GenerationPlan): Promise<WebsiteContext> {
    let website: WebsiteContext;
    try {
      website = await source.load(campaign.websiteUrl, retrievalQueriesFor(buildOrderOf(kinds)));
      // With nothing on the site, only the user's own description can carry the campaign.
      if (Object.values(website.searches).every((passages) => passages.length === 0) && !campaign.userContext) {
        throw new WebsiteAnalysisError('EMPTY', `The analysis found no text to build on${website.quality.gaps.length > 0 ? ` (${website.quality.gaps.join(' ')})` : ''}.`);
      }
    } catch (error) {
      if (error instanceof ContentServiceError) {
        run.logger.warn({ err: error, campaignId: campaign.id }, 'content-service could not give the website context');
        throw upstreamUnavailable('The website analysis service did not answer, so nothing was generated. Try again in a minute.', { service: 'content' });
      }
      if (!(error instanceof WebsiteAnalysisError)) throw error;
      const message = websiteProblemMessage(campaign.websiteUrl, error);
      await this.recordWebsiteError(run, campaign.id, message);
      const wanted = plan.steps.map((step) => ({ kind: step.kind, error: message }));
      await this.options.repository.markFailed(run.em, run.tenantId, campaign.id, wanted);
      throw error.problem === 'UNREACHABLE' ? upstreamUnavailable(message, { websiteUrl: campaign.websiteUrl }) : badUserInput(message, undefined, { websiteUrl: campaign.websiteUrl });
    }
    if (campaign.websiteError !== null) await this.recordWebsiteError(run, campaign.id, null);
    return website;
  }

  private async recordWebsiteError(run: GenerationRun, campaignId: string, message: string | null): Promise<void> {
    const em = run.em.fork();
    const campaign = await em.findOneOrFail(Campaign, { id: campaignId });
    campaign.websiteError = message;
    await em.flush();
  }

  /** One step: prompt, model (or offline), the user's word laid over, grounding, confidence. */
  private async buildVersion(
    run: GenerationRun,
    campaign: Campaign,
    kind: AssetKind,
    step: PlannedStep,
    assets: ReadonlyMap<AssetKind, RunAsset>,
    website: WebsiteContext,
    corrections: readonly CampaignCorrection[],
    request: GenerationRequest,
  ): Promise<VersionDraft> {
    const task = assetTaskOf(kind);
    const passages = passagesForKind(website, kind);
    const prerequisites: AssetContext['prerequisites'] = {};
    const basedOn: AssetBasis = {};
    for (const prerequisite of prerequisitesOf(kind)) {
      const present = assets.get(prerequisite);
      if (!present?.content) continue;
      prerequisites[prerequisite] = present.content;
      // Built in this run: filled in when its version is written.
      if (present.version !== null) basedOn[prerequisite] = present.version;
    }
    const groundingPassages = distinctPassages([...passages, ...inheritedPassages(kind, new Map([...assets].map(([assetKind, asset]) => [assetKind, asset.passages])))]);
    const fieldCorrections = corrections.filter((correction) => correction.kind === kind && correction.scope === CorrectionScope.FIELD && correction.fieldPath !== null);
    // New instructions win; a rebuild the user did not ask for by name keeps the ones it was built with.
    const instructions =
      request.instructions && kind in request.instructions ? (request.instructions[kind] ?? null) : step.reason === StepReason.REQUESTED ? null : (assets.get(kind)?.instructions ?? null);
    const context: AssetContext = {
      websiteUrl: campaign.websiteUrl,
      // The product overview names the company; until it exists, the home page title may.
      companyName: (assets.get(AssetKind.PRODUCT_OVERVIEW)?.content as { companyName?: string } | null)?.companyName ?? companyNameFromTitle(website.title),
      websiteSummary: website.summary,
      passages,
      prerequisites,
      userContext: notesWithCorrections(campaign.userContext, fieldCorrections),
      instructions,
    };

    const result = await this.options.llm.generateObject({ task, context, prompt: task.buildPrompt(context), attribution: run.attribution, signal: run.signal });
    const warnings: string[] = [];
    if (result.provider === offlineProvider) {
      if (request.requireModel?.includes(kind)) throw new ModelRequiredError(`${kind} was not regenerated: following instructions needs a language model and none answered.`);
      if (instructions) warnings.push('Built offline, which cannot follow instructions: they were not applied.');
    }

    // The user's word over the generated one: their notes, then their field corrections, latest last.
    const noted = applyUserContext(kind, result.object as never, campaign.userContext);
    for (const rejected of noted.rejected) warnings.push(`Your note "${rejected.fieldPath}" (line ${rejected.line}) was not applied: ${rejected.message}`);
    let asset = noted.asset as Asset;
    for (const correction of fieldCorrections) {
      try {
        asset = setFieldAtPath(asset, assetSchemaOf(kind) as never, correction.fieldPath!, correction.value) as Asset;
      } catch (error) {
        if (!(error instanceof AssetFieldError)) throw error;
        warnings.push(`Your correction of ${correction.fieldPath} could not be kept on this version: ${error.message}`);
      }
    }

    const report = checkGrounding(asset, groundingPassages, { kind });
    const confidence = groundedConfidence(result.confidence, report);
    warnings.push(...groundingWarnings(report));
    if (thinWebsiteLevels.has(website.quality.level)) {
      warnings.push(`The website says little of what a campaign needs (${website.quality.level.toLowerCase()})${website.quality.gaps.length > 0 ? `: ${website.quality.gaps.join(' ')}` : '.'}`);
    }
    return {
      kind,
      origin: request.globalCorrections?.includes(kind) ? AssetOrigin.GLOBAL_CORRECTION : AssetOrigin.GENERATED,
      content: dropUnsupportedSources(asset, report),
      confidence,
      provider: result.provider,
      model: result.model,
      promptVersion: task.version,
      instructions,
      basedOn,
      websiteAnalyzedAt: website.analyzedAt,
      passages: usedPassages(passages),
      grounding: groundingSummary(report),
      warnings,
      usage: result.provider === offlineProvider ? null : { ...result.usage, costUsd: result.costUsd, latencyMs: result.latencyMs, cached: result.cached },
    };
  }

  /** What the user is told about a failed step; the cause goes to the log. */
  private describeFailure(run: GenerationRun, kind: AssetKind, error: unknown): string {
    if (error instanceof ModelRequiredError) return error.message;
    if (error instanceof LlmAbortedError) return `${kind} was not finished: its generation was cancelled.`;
    run.logger.warn({ err: error, kind }, 'an asset could not be generated');
    if (error instanceof LlmUnavailableError) {
      const reasons = error.failures.map((failure) => `${failure.provider}: ${failure.error.code}`).join(', ');
      return `No language model could generate ${kind}${reasons ? ` (${reasons})` : ''}. Try again later.`;
    }
    if (error instanceof LlmError) return `${kind} could not be generated (${error.code}). Try again later.`;
    return `${kind} could not be generated because of an internal error. Try again; quote request ${run.attribution.requestId ?? 'unknown'} if it persists.`;
  }
}

/**
 * The passages the assets this kind is built on (directly or not) were given. Quotes are checked
 * against them too: an asset may carry a prerequisite's citation (the offline answers do), and
 * that quote was found on the website even when this asset's own searches did not return it.
 */
export function inheritedPassages(kind: AssetKind, passagesByKind: ReadonlyMap<AssetKind, readonly WebsitePassage[]>): WebsitePassage[] {
  return transitivePrerequisitesOf(kind).flatMap((prerequisite) => passagesByKind.get(prerequisite) ?? []);
}

/** What a run starts from: each asset's current content, version, passages and instructions. */
function runAssetsOf(records: readonly AssetRecord[]): Map<AssetKind, RunAsset> {
  return new Map(
    records.map((record): [AssetKind, RunAsset] => [
      record.kind,
      { content: record.current?.content ?? null, version: record.current?.version ?? null, passages: record.current?.passages ?? [], instructions: record.current?.instructions ?? null },
    ]),
  );
}

function snapshotsOf(records: readonly AssetRecord[]): Map<AssetKind, AssetSnapshot> {
  return new Map(records.map((record) => [record.kind, snapshotOf(record)]));
}

function snapshotOf(record: AssetRecord): AssetSnapshot {
  const current = record.current;
  return {
    kind: record.kind,
    state: record.state,
    version: current?.version ?? null,
    confidence: current?.confidence ?? null,
    provider: current?.provider ?? null,
    promptVersion: current?.promptVersion ?? null,
    origin: current?.origin ?? null,
    websiteAnalyzedAt: current?.websiteAnalyzedAt ?? null,
  };
}

/**
 * The notes a prompt shows: the user's own, then the field corrections they made, so a model builds
 * around them. The corrections are also laid over the answer, so they hold offline too.
 */
function notesWithCorrections(userContext: string | null, corrections: readonly CampaignCorrection[]): string | null {
  if (corrections.length === 0) return userContext;
  const lines = corrections.map((correction) => `- ${correction.fieldPath}: ${JSON.stringify(correction.value)}`);
  return [userContext ?? '', `Fields the user corrected (keep these values):\n${lines.join('\n')}`].filter(Boolean).join('\n\n');
}

function usedPassages(passages: readonly WebsitePassage[]): UsedPassage[] {
  return passages.map((passage) => ({ pageUrl: passage.pageUrl, heading: passage.heading, score: passage.score, text: passage.text }));
}

export function groundingSummary(report: GroundingReport): GroundingSummary {
  return {
    supportedQuotes: report.supported.length,
    misattributedQuotes: report.misattributed.length,
    unsupportedQuotes: report.unsupported,
    checkedClaims: report.checkedClaims,
    unsupportedClaims: report.unsupportedClaims,
  };
}

export function groundingWarnings(report: GroundingReport): string[] {
  const warnings: string[] = [];
  if (report.unsupported.length > 0) warnings.push(`${report.unsupported.length} quoted source(s) are not on the website and were dropped.`);
  if (report.supported.length + report.misattributed.length + report.unsupported.length === 0) warnings.push('It cites no passage of the website.');
  if (report.unsupportedClaims.length > 0) {
    warnings.push(`No passage of the website supports: ${report.unsupportedClaims.map((claim) => claim.fieldPath).join(', ')}.`);
  }
  return warnings;
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
