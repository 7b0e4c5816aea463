import { LlmAbortedError, LlmError, LlmUnavailableError, type Llm, type LlmAttribution } from '@gtm/llm';
import type { EntityManager, Logger } from '@gtm/runtime';
import {
  AssetFieldError,
  AssetKind,
  applyUserContext,
  assetKinds,
  assetSchemaOf,
  assetTaskOf,
  checkGrounding,
  dropUnsupportedSources,
  groundedConfidence,
  groundingSummary,
  groundingWarnings,
  inheritedPassages,
  prerequisitesOf,
  setFieldAtPath,
  type Asset,
  type AssetContext,
  type WebsitePassage,
} from '../assets/index.js';
import type { Campaign } from '../campaign/campaign.entity.js';
import { companyNameFromTitle, distinctPassages, passagesForKind, type WebsiteContext } from '../website/website-context.js';
import { AssetOrigin, AssetState, CorrectionScope, type AssetBasis, type CampaignCorrection, type UsedPassage } from './campaign-asset.entity.js';
import type { AssetRecord, CampaignAssetRepository, RecordedVersion, VersionDraft } from './campaign-asset.repository.js';
import { planGeneration, snapshotsOf, StepReason, type PlannedStep } from './generation.plan.js';

/** Who a generation works for and with what: a request's, or a background job's. */
export interface GenerationContext {
  /** Scoped to the tenant. Versions are written on forks of it, or in the transaction a job item passes. */
  em: EntityManager;
  tenantId: string;
  /** Put on every LLM usage record (metering, the LLM budget). */
  attribution: LlmAttribution;
  logger: Logger;
  /** Aborts the model call in flight (a job that is cancelled or handed back). */
  signal?: AbortSignal;
}

/** What a run asks beyond the plan. */
export interface RunOptions {
  /** Instructions for one generation of a kind. A rebuild without new ones keeps those the asset was built with. */
  instructions?: Partial<Record<AssetKind, string | null>>;
  /** Kinds whose new version records itself as a global correction. Default: none. */
  globalCorrections?: readonly AssetKind[];
  /** Kinds that fail rather than store an offline answer (their instructions need a model). Default: none. */
  requireModel?: readonly AssetKind[];
}

/** What the run reads from the database: the campaign's assets and its corrections, oldest first. */
export interface StoredAssets {
  records: readonly AssetRecord[];
  corrections: readonly CampaignCorrection[];
}

/** How one step went (`GenerationRun.build`). */
export type StepResult =
  /** Built: `record` stores the draft as the kind's next version. */
  | { status: 'built'; draft: VersionDraft }
  /** Not built. `error` is for the user; `retryable` says whether trying again later may succeed. */
  | { status: 'failed'; error: string; retryable: boolean; cause: unknown };

/** What the engine lends a run. */
export interface RunDependencies {
  llm: Llm;
  repository: CampaignAssetRepository;
  weakConfidence: number;
  modelAvailable(): boolean;
}

/** An asset this run built: its content, kept until (and after) its version is written. */
interface BuiltAsset {
  content: Asset;
  passages: UsedPassage[];
  instructions: string | null;
  /** Known once `record` wrote it. */
  version: number | null;
}

/** The model the offline provider reports, for assets it built. */
const offlineProvider = 'offline';

/** Website quality levels too thin to build on without saying so. */
const thinWebsiteLevels = new Set(['INSUFFICIENT', 'MISSING']);

/** A step that cannot honour its instructions without a model. */
class ModelRequiredError extends Error {
  override readonly name = 'ModelRequiredError';
}

/** A version was not written because one it is built on could not be. */
export class NotStoredError extends Error {
  override readonly name = 'NotStoredError';

  constructor(readonly kind: AssetKind) {
    super(`${kind} could not be stored`);
  }
}

/**
 * One generation of a campaign's planned steps, a request's or a job attempt's: what the run
 * knows (the campaign, the website it read, the assets as stored) and what it built. `build`
 * makes a step's model call and keeps the answer in memory, so the next step can be built on it
 * while `record` is still writing it; `record` writes a built step as the kind's next version,
 * with the version numbers of what it was built on, which are known once those are written.
 * Steps are built in plan order and recorded in the same order.
 */
export class GenerationRun {
  private readonly built = new Map<AssetKind, BuiltAsset>();
  private readonly failed = new Set<AssetKind>();
  private stored: Map<AssetKind, AssetRecord>;
  private corrections: readonly CampaignCorrection[];

  constructor(
    private readonly dependencies: RunDependencies,
    readonly context: GenerationContext,
    readonly campaign: Campaign,
    readonly website: WebsiteContext,
    stored: StoredAssets,
    private readonly options: RunOptions = {},
  ) {
    this.stored = new Map(stored.records.map((record) => [record.kind, record]));
    this.corrections = stored.corrections;
  }

  /** Reads the assets and corrections as they are now: a job's step may have waited since the plan. */
  async refresh(): Promise<void> {
    const { repository } = this.dependencies;
    const [records, corrections] = await Promise.all([repository.load(this.context.em, this.campaign.id), repository.corrections(this.context.em, this.campaign.id)]);
    this.stored = new Map(records.map((record) => [record.kind, record]));
    this.corrections = corrections;
  }

  /** The version each kind this run recorded got. */
  versions(): Map<AssetKind, number> {
    return new Map([...this.built].flatMap(([kind, built]) => (built.version === null ? [] : [[kind, built.version] as const])));
  }

  /**
   * Whether a planned step still needs building, judged on the assets as last read: asked for by
   * name, built on something this run rebuilt or on an older version than the current one, or
   * still missing, failed, stale or weak and improvable. Another run (a job queued before this
   * one, a generateAsset) may have built it since it was planned. A step whose prerequisite could
   * not be built still "needs building", so that `build` reports it as not built.
   */
  stillNeeded(step: PlannedStep): boolean {
    const { kind } = step;
    if (step.reason === StepReason.REQUESTED || this.blockerOf(step) !== undefined || step.waitsFor.some((prerequisite) => this.built.has(prerequisite))) return true;
    const current = this.stored.get(kind)?.current ?? null;
    if (current !== null && prerequisitesOf(kind).some((prerequisite) => current.basedOn[prerequisite] !== (this.stored.get(prerequisite)?.current?.version ?? undefined))) return true;
    const plan = planGeneration({
      assets: snapshotsOf([...this.stored.values()]),
      kinds: [kind],
      weakConfidence: this.dependencies.weakConfidence,
      modelAvailable: this.dependencies.modelAvailable(),
      websiteAnalyzedAt: this.website.analyzedAt,
    });
    return plan.steps.some((planned) => planned.kind === kind);
  }

  /**
   * Builds one step: the prompt from the website's passages for the kind, its prerequisites (as
   * this run built them, or as stored), the user's notes and corrections; the model call (or the
   * offline answer); the user's word laid over the answer; grounding and confidence. Never throws:
   * a step whose prerequisite could not be built, or whose model call failed, comes back failed.
   */
  async build(step: PlannedStep): Promise<StepResult> {
    const { kind } = step;
    const blocker = this.blockerOf(step);
    if (blocker !== undefined) {
      this.failed.add(kind);
      return { status: 'failed', error: `Not built: ${blocker}, which it is built on, could not be built.`, retryable: false, cause: null };
    }
    try {
      const draft = await this.draft(step);
      this.built.set(kind, { content: draft.content, passages: draft.passages, instructions: draft.instructions, version: null });
      return { status: 'built', draft };
    } catch (error) {
      this.failed.add(kind);
      return { status: 'failed', error: this.describeFailure(kind, error), retryable: error instanceof LlmError && error.isRetryable, cause: error };
    }
  }

  /**
   * Writes a built step as the kind's next version, in `em`'s transaction when it is in one (a job
   * item's), and marks what is built on it STALE, except `rebuilding` (the run's later steps).
   * Throws `NotStoredError` when a prerequisite this run built was not stored.
   */
  async record(em: EntityManager, draft: VersionDraft, rebuilding: readonly AssetKind[]): Promise<RecordedVersion> {
    for (const prerequisite of prerequisitesOf(draft.kind)) {
      const earlier = this.built.get(prerequisite);
      if (!earlier) continue;
      if (earlier.version === null) throw new NotStoredError(prerequisite);
      draft.basedOn[prerequisite] = earlier.version;
    }
    const recorded = await this.dependencies.repository.recordVersion(em, this.context.tenantId, this.campaign.id, draft, rebuilding);
    this.built.get(draft.kind)!.version = recorded.version.version;
    return recorded;
  }

  /** What the user is told about a step that failed; the cause goes to the log. */
  describeFailure(kind: AssetKind, error: unknown): string {
    if (error instanceof NotStoredError) return `Not stored: ${error.kind}, which it is built on, could not be stored.`;
    if (error instanceof ModelRequiredError) return error.message;
    if (error instanceof LlmAbortedError) return `${kind} was not finished: its generation was cancelled.`;
    this.context.logger.warn({ err: error, kind }, 'an asset could not be generated');
    if (error instanceof LlmUnavailableError) {
      const reasons = error.failures.map((failure) => `${failure.provider}: ${failure.error.code}`).join(', ');
      return `No language model could generate ${kind}${reasons ? ` (${reasons})` : ''}. Try again later.`;
    }
    if (error instanceof LlmError) return `${kind} could not be generated (${error.code}). Try again later.`;
    return `${kind} could not be generated because of an internal error. Try again; quote request ${this.context.attribution.requestId ?? 'unknown'} if it persists.`;
  }

  /**
   * The prerequisite rebuilt in this run that the step cannot be built on: it failed here, or
   * (built by an earlier attempt of a job) it has no content or failed since.
   */
  private blockerOf(step: PlannedStep): AssetKind | undefined {
    return step.waitsFor.find((prerequisite) => {
      if (this.failed.has(prerequisite)) return true;
      if (this.built.has(prerequisite)) return false;
      const record = this.stored.get(prerequisite);
      return !record?.current || record.state === AssetState.FAILED;
    });
  }

  /** An asset's content, passages and instructions as this run sees them: built here, or stored. */
  private assetOf(kind: AssetKind): { content: Asset | null; version: number | null; passages: readonly WebsitePassage[]; instructions: string | null } {
    const built = this.built.get(kind);
    if (built) return built;
    const current = this.stored.get(kind)?.current ?? null;
    return { content: current?.content ?? null, version: current?.version ?? null, passages: current?.passages ?? [], instructions: current?.instructions ?? null };
  }

  private async draft(step: PlannedStep): Promise<VersionDraft> {
    const { kind } = step;
    const { campaign, website, options } = this;
    const task = assetTaskOf(kind);
    const passages = passagesForKind(website, kind);
    const prerequisites: AssetContext['prerequisites'] = {};
    const basedOn: AssetBasis = {};
    for (const prerequisite of prerequisitesOf(kind)) {
      const present = this.assetOf(prerequisite);
      if (!present.content) continue;
      prerequisites[prerequisite] = present.content;
      // Built in this run: filled in by `record`, once its version is written.
      if (!this.built.has(prerequisite) && present.version !== null) basedOn[prerequisite] = present.version;
    }
    const passagesByKind = new Map(assetKinds.map((other) => [other, this.assetOf(other).passages]));
    const groundingPassages = distinctPassages([...passages, ...inheritedPassages(kind, passagesByKind)]);
    const fieldCorrections = this.corrections.filter((correction) => correction.kind === kind && correction.scope === CorrectionScope.FIELD && correction.fieldPath !== null);
    // New instructions win; a rebuild the user did not ask for by name keeps the ones it was built with.
    const instructions =
      options.instructions && kind in options.instructions ? (options.instructions[kind] ?? null) : step.reason === StepReason.REQUESTED ? null : this.assetOf(kind).instructions;
    const context: AssetContext = {
      websiteUrl: campaign.websiteUrl,
      // The product overview names the company; until it exists, the home page title may.
      companyName: (this.assetOf(AssetKind.PRODUCT_OVERVIEW).content as { companyName?: string } | null)?.companyName ?? companyNameFromTitle(website.title),
      websiteSummary: website.summary,
      passages,
      prerequisites,
      userContext: notesWithCorrections(campaign.userContext, fieldCorrections),
      instructions,
    };

    const result = await this.dependencies.llm.generateObject({ task, context, prompt: task.buildPrompt(context), attribution: this.context.attribution, signal: this.context.signal });
    const warnings: string[] = [];
    if (result.provider === offlineProvider) {
      if (options.requireModel?.includes(kind)) throw new ModelRequiredError(`${kind} was not regenerated: following instructions needs a language model and none answered.`);
      if (instructions) warnings.push('Built offline, which cannot follow instructions: they were not applied.');
    }

    // The user's word over the generated one: their notes, then their field corrections, latest last.
    const noted = applyUserContext(kind, result.object as Asset, campaign.userContext);
    for (const rejected of noted.rejected) warnings.push(`Your note "${rejected.fieldPath}" (line ${rejected.line}) was not applied: ${rejected.message}`);
    let asset: Asset = noted.asset;
    for (const correction of fieldCorrections) {
      try {
        asset = setFieldAtPath<Asset>(asset, assetSchemaOf(kind), correction.fieldPath!, correction.value);
      } catch (error) {
        if (!(error instanceof AssetFieldError)) throw error;
        warnings.push(`Your correction of ${correction.fieldPath} could not be kept on this version: ${error.message}`);
      }
    }

    const report = checkGrounding(asset, groundingPassages, { kind });
    warnings.push(...groundingWarnings(report));
    if (thinWebsiteLevels.has(website.quality.level)) {
      warnings.push(`The website says little of what a campaign needs (${website.quality.level.toLowerCase()})${website.quality.gaps.length > 0 ? `: ${website.quality.gaps.join(' ')}` : '.'}`);
    }
    return {
      kind,
      origin: options.globalCorrections?.includes(kind) ? AssetOrigin.GLOBAL_CORRECTION : AssetOrigin.GENERATED,
      content: dropUnsupportedSources(asset, report),
      confidence: groundedConfidence(result.confidence, report),
      provider: result.provider,
      model: result.model,
      promptVersion: task.version,
      instructions,
      basedOn,
      websiteAnalyzedAt: website.analyzedAt,
      passages: passages.map((passage) => ({ pageUrl: passage.pageUrl, heading: passage.heading, score: passage.score, text: passage.text })),
      grounding: groundingSummary(report),
      warnings,
      usage: result.provider === offlineProvider ? null : { ...result.usage, costUsd: result.costUsd, latencyMs: result.latencyMs, cached: result.cached },
    };
  }
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
