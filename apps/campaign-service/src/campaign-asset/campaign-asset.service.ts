import type { Llm } from '@gtm/llm';
import { badUserInput, conflict, notFound, parseInput, upstreamUnavailable, type SubgraphContext } from '@gtm/runtime';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import {
  AssetFieldError,
  assetKinds,
  assetSchemaOf,
  checkGrounding,
  dropUnsupportedSources,
  formatFieldPath,
  groundedConfidence,
  maximumSources,
  parseFieldPath,
  schemaAtPath,
  setFieldAtPath,
  type Asset,
  type AssetKind,
  type AssetSource,
} from '../assets/index.js';
import { Campaign } from '../campaign/campaign.entity.js';
import { groundingSummary, groundingWarnings, inheritedPassages, type AssetOrchestrator, type GenerationOutcome, type GenerationRun } from '../generation/asset-orchestrator.js';
import { sectionRewriteTask } from '../generation/section-rewrite.task.js';
import { distinctPassages, type WebsiteContextSource } from '../generation/website-context.js';
import type { CampaignLoaders } from '../loaders.js';
import { AssetOrigin, CorrectionScope, type CampaignAssetVersion } from './campaign-asset.entity.js';
import type { CorrectAssetInput } from './campaign-asset.input.js';
import type { AssetRecord, CampaignAssetRepository, CorrectionDraft, VersionDraft } from './campaign-asset.repository.js';
import type { AssetStatusType } from './campaign-asset.type.js';

type CampaignContext = SubgraphContext<CampaignLoaders>;

export interface CampaignAssetServiceOptions {
  orchestrator: AssetOrchestrator;
  repository: CampaignAssetRepository;
  llm: Llm;
  /** The website source of one request: content-service with the caller's token. */
  websiteFor(context: CampaignContext): WebsiteContextSource;
}

const instructionsSchema = z
  .string()
  .trim()
  .max(4_000, 'must be at most 4000 characters')
  .nullish()
  .transform((value) => value || null);

const correctionSchema = z.object({
  fieldPath: z.string().trim().max(300, 'must be at most 300 characters').nullish().transform((value) => value || null),
  instructions: instructionsSchema,
});

/** How many times a field correction is re-applied when another write got in first. */
const correctionAttempts = 3;

/** The status a record shows as `AssetStatus`. */
export function assetStatusOf(record: AssetRecord, weakConfidence: number): AssetStatusType {
  const current = record.current;
  return {
    kind: record.kind,
    state: record.state,
    version: current?.version ?? null,
    confidence: current?.confidence ?? null,
    weak: current !== null && current.confidence < weakConfidence,
    provider: current?.provider ?? null,
    model: current?.model ?? null,
    promptVersion: current?.promptVersion ?? null,
    generatedAt: current?.createdAt ?? null,
    origin: current?.origin ?? null,
    sources: (current?.content.sources ?? []).map((source: AssetSource) => ({ url: source.url, quote: source.quote })),
    // In build order: the stored JSON keeps no order of its own.
    basedOn: assetKinds.filter((kind) => current?.basedOn[kind] !== undefined).map((kind) => ({ kind, version: current!.basedOn[kind]! })),
    websiteAnalyzedAt: current?.websiteAnalyzedAt ?? null,
    passageCount: current?.passages.length ?? 0,
    instructions: current?.instructions ?? null,
    warnings: current?.warnings ?? [],
    error: record.error,
    staleReason: record.staleReason,
  };
}

/** Generation and corrections of a campaign's assets (API.md: generateAsset, correctAsset, Campaign.assets). */
export class CampaignAssetService {
  private readonly websiteSources = new WeakMap<CampaignContext, WebsiteContextSource>();

  constructor(private readonly options: CampaignAssetServiceOptions) {}

  /** Below this confidence an asset shows as weak: the orchestrator's threshold. */
  get weakConfidence(): number {
    return this.options.orchestrator.weakConfidence;
  }

  /** The run of one request: its tenant, its EntityManager, the caller for metering. */
  runOf(context: CampaignContext, signal?: AbortSignal): GenerationRun {
    const { caller } = context;
    return { em: context.em, tenantId: caller.tenantId, attribution: { tenantId: caller.tenantId, keyId: caller.keyId, requestId: caller.requestId }, logger: context.logger, signal };
  }

  /** The request's website source, one per request so that its searches are shared by every run the request makes. */
  websiteFor(context: CampaignContext): WebsiteContextSource {
    let source = this.websiteSources.get(context);
    if (!source) {
      source = this.options.websiteFor(context);
      this.websiteSources.set(context, source);
    }
    return source;
  }

  /** The five assets of a campaign, batched across campaigns. */
  async assetsOf(context: CampaignContext, campaignId: string): Promise<AssetRecord[]> {
    return context.loaders.assetsByCampaign.load(campaignId);
  }

  async contentOf(context: CampaignContext, campaignId: string, kind: AssetKind): Promise<Asset | null> {
    const records = await this.assetsOf(context, campaignId);
    return records.find((record) => record.kind === kind)?.current?.content ?? null;
  }

  /** `generateAsset`: builds the kind (its missing, weak or stale prerequisites first) and returns the campaign. */
  async generateAsset(context: CampaignContext, campaignId: string, kind: AssetKind, instructions: string | null | undefined): Promise<Campaign> {
    const fields = parseInput(z.object({ instructions: instructionsSchema }), { instructions });
    await this.requireCampaign(context, campaignId);
    const outcome = await this.options.orchestrator.generate(this.runOf(context), campaignId, {
      kinds: [kind],
      regenerate: [kind],
      instructions: fields.instructions ? { [kind]: fields.instructions } : undefined,
      website: this.websiteFor(context),
    });
    throwOnFailures(outcome);
    return this.freshCampaign(context, campaignId);
  }

  /** `correctAsset`: a FIELD, SECTION or GLOBAL correction; the assets built on it go STALE (and are rebuilt on request). */
  async correctAsset(context: CampaignContext, input: CorrectAssetInput): Promise<Campaign> {
    const fields = parseInput(correctionSchema, { fieldPath: input.fieldPath, instructions: input.instructions });
    await this.requireCampaign(context, input.campaignId);
    let staled: AssetKind[];
    switch (input.scope) {
      case CorrectionScope.FIELD:
        if (!fields.fieldPath) throw badUserInput('A FIELD correction needs fieldPath, e.g. "keyFeatures[2]".', 'input.fieldPath');
        if (input.value === undefined) throw badUserInput('A FIELD correction needs value: the value to set at fieldPath (null clears a field that may be empty).', 'input.value');
        staled = await this.correctField(context, input.campaignId, input.kind, fields.fieldPath, input.value);
        break;
      case CorrectionScope.SECTION:
        if (!fields.fieldPath) throw badUserInput('A SECTION correction needs fieldPath: the section to rewrite, e.g. "valuePropositions".', 'input.fieldPath');
        if (!fields.instructions) throw badUserInput('A SECTION correction needs instructions: how to rewrite the section.', 'input.instructions');
        staled = await this.rewriteSection(context, input.campaignId, input.kind, fields.fieldPath, fields.instructions);
        break;
      default:
        if (!fields.instructions) throw badUserInput('A GLOBAL correction needs instructions: how to regenerate the asset.', 'input.instructions');
        staled = await this.regenerateWithInstructions(context, input.campaignId, input.kind, fields.instructions);
    }
    if (input.regenerateStale && staled.length > 0) {
      const outcome = await this.options.orchestrator.generate(this.runOf(context), input.campaignId, { kinds: staled, website: this.websiteFor(context) });
      throwOnFailures(outcome);
    }
    return this.freshCampaign(context, input.campaignId);
  }

  private async correctField(context: CampaignContext, campaignId: string, kind: AssetKind, fieldPath: string, value: unknown): Promise<AssetKind[]> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.currentVersion(context, campaignId, kind);
      let content: Asset;
      let path: string;
      try {
        path = formatFieldPath(parseFieldPath(fieldPath));
        content = setFieldAtPath(current.content, assetSchemaOf(kind) as never, path, value) as Asset;
      } catch (error) {
        if (!(error instanceof AssetFieldError)) throw error;
        throw badUserInput(error.message, error.code === 'INVALID_FIELD_PATH' ? 'input.fieldPath' : 'input.value', { fieldPath: error.fieldPath, issues: error.issues });
      }
      // The user's value needs no website behind it: the version keeps its confidence and sources basis.
      const draft: VersionDraft = { ...this.carriedOver(current), origin: AssetOrigin.FIELD_CORRECTION, content, provider: 'user', model: 'user' };
      const recorded = await this.options.repository.recordCorrection(
        context.em,
        context.caller.tenantId,
        campaignId,
        current.version,
        { scope: CorrectionScope.FIELD, fieldPath: path, value, instructions: null },
        draft,
      );
      if (recorded) return recorded.recorded.staled;
      if (attempt >= correctionAttempts) throw conflict(`${kind} keeps changing while it is corrected; nothing was changed. Try again.`);
    }
  }

  private async rewriteSection(context: CampaignContext, campaignId: string, kind: AssetKind, fieldPath: string, instructions: string): Promise<AssetKind[]> {
    this.requireModel('Rewriting a section');
    const current = await this.currentVersion(context, campaignId, kind);
    const campaign = await this.requireCampaign(context, campaignId);
    let path: string;
    let sectionSchema;
    try {
      const segments = parseFieldPath(fieldPath);
      path = formatFieldPath(segments);
      sectionSchema = schemaAtPath(assetSchemaOf(kind) as never, segments);
      if (!sectionSchema || segments[0] === 'sources') throw new AssetFieldError('INVALID_FIELD_PATH', `${path} is not a section of this asset.`, path);
      // The section must exist in the asset: a rewrite changes a value, it does not invent one.
      setFieldAtPath(current.content, assetSchemaOf(kind) as never, path, valueAt(current.content, segments));
    } catch (error) {
      if (!(error instanceof AssetFieldError)) throw error;
      throw badUserInput(error.message, 'input.fieldPath', { fieldPath: error.fieldPath });
    }
    const task = sectionRewriteTask(sectionSchema);
    const rewriteContext = {
      kind,
      websiteUrl: campaign.websiteUrl,
      asset: current.content,
      fieldPath: path,
      currentValue: valueAt(current.content, parseFieldPath(path)),
      instructions,
      userContext: campaign.userContext,
      passages: current.passages,
    };
    const result = await this.options.llm
      .generateObject({ task, context: rewriteContext, prompt: task.buildPrompt(rewriteContext), attribution: this.runOf(context).attribution })
      .catch((error: unknown) => {
        context.logger.warn({ err: error, kind }, 'a section could not be rewritten');
        throw modelUnavailable('Rewriting a section');
      });
    if (result.provider === 'offline') throw modelUnavailable('Rewriting a section');

    let content: Asset;
    try {
      content = setFieldAtPath(current.content, assetSchemaOf(kind) as never, path, result.object.value) as Asset;
    } catch (error) {
      if (!(error instanceof AssetFieldError)) throw error;
      throw upstreamUnavailable(`The model's rewrite of ${path} does not fit the asset (${error.message}); nothing was changed. Try other instructions, or set the value yourself with scope FIELD.`);
    }
    content = { ...content, sources: mergeSources(content.sources, result.object.sources) };
    const records = await this.options.repository.load(context.em, campaignId);
    const passagesByKind = new Map(records.map((record) => [record.kind, record.current?.passages ?? []]));
    const report = checkGrounding(content, distinctPassages([...current.passages, ...inheritedPassages(kind, passagesByKind)]), { kind });
    // A rewrite never makes the asset more trusted than it was; unsupported new quotes and claims make it less.
    const confidence = Math.min(current.confidence, groundedConfidence(result.confidence, report));
    const draft: VersionDraft = {
      ...this.carriedOver(current),
      origin: AssetOrigin.SECTION_CORRECTION,
      content: dropUnsupportedSources(content, report),
      confidence,
      provider: result.provider,
      model: result.model,
      grounding: groundingSummary(report),
      warnings: groundingWarnings(report),
      usage: { ...result.usage, costUsd: result.costUsd, latencyMs: result.latencyMs, cached: result.cached },
    };
    const correction: CorrectionDraft = { scope: CorrectionScope.SECTION, fieldPath: path, value: null, instructions };
    const recorded = await this.options.repository.recordCorrection(context.em, context.caller.tenantId, campaignId, current.version, correction, draft);
    if (!recorded) throw conflict(`${kind} changed while its section was rewritten; nothing was changed. Try again.`);
    return recorded.recorded.staled;
  }

  private async regenerateWithInstructions(context: CampaignContext, campaignId: string, kind: AssetKind, instructions: string): Promise<AssetKind[]> {
    this.requireModel('Regenerating an asset with instructions');
    const before = await this.currentVersion(context, campaignId, kind);
    const outcome = await this.options.orchestrator.generate(this.runOf(context), campaignId, {
      kinds: [kind],
      regenerate: [kind],
      instructions: { [kind]: instructions },
      globalCorrections: [kind],
      requireModel: [kind],
      website: this.websiteFor(context),
    });
    throwOnFailures(outcome);
    await this.options.repository.appendCorrection(context.em, context.caller.tenantId, campaignId, kind, {
      scope: CorrectionScope.GLOBAL,
      fieldPath: null,
      value: null,
      instructions,
      beforeVersion: before.version,
      afterVersion: outcome.built.get(kind)!,
      staleKinds: outcome.staled,
    });
    return outcome.staled;
  }

  /**
   * What a correction's version keeps of the one it corrects, its instructions included: they are
   * the asset's, which a later rebuild follows again. A section's own instructions are the
   * correction's, kept with it.
   */
  private carriedOver(current: CampaignAssetVersion): Omit<VersionDraft, 'origin' | 'content' | 'provider' | 'model'> {
    return {
      kind: current.kind,
      instructions: current.instructions,
      confidence: current.confidence,
      promptVersion: current.promptVersion,
      basedOn: current.basedOn,
      websiteAnalyzedAt: current.websiteAnalyzedAt,
      passages: current.passages,
      grounding: current.grounding,
      warnings: [],
      usage: null,
    };
  }

  private async currentVersion(context: CampaignContext, campaignId: string, kind: AssetKind): Promise<CampaignAssetVersion> {
    const records = await this.options.repository.load(context.em, campaignId);
    const current = records.find((record) => record.kind === kind)?.current;
    if (!current) throw badUserInput(`${kind} has not been generated yet, so there is nothing to correct: generate it first (generateAsset).`, 'input.kind');
    return current;
  }

  private requireModel(what: string): void {
    if (!this.options.orchestrator.modelAvailable()) throw modelUnavailable(what);
  }

  private async requireCampaign(context: CampaignContext, campaignId: string): Promise<Campaign> {
    const campaign = await context.loaders.campaignById.load(campaignId);
    if (!campaign) throw notFound('Campaign', campaignId);
    return campaign;
  }

  /** The campaign as it is after the writes (they ran on forks), with the request's loaders cleared. */
  async freshCampaign(context: CampaignContext, campaignId: string): Promise<Campaign> {
    context.loaders.assetsByCampaign.clear(campaignId);
    context.loaders.correctionsByCampaign.clear(campaignId);
    context.loaders.campaignById.clear(campaignId);
    const campaign = await context.em.fork().findOne(Campaign, { id: campaignId });
    if (!campaign) throw notFound('Campaign', campaignId);
    return campaign;
  }
}

function modelUnavailable(what: string): GraphQLError {
  return upstreamUnavailable(
    `${what} follows your instructions, which needs a language model, and none answered (the offline provider only extracts from the website). Give one its key (OPENAI_API_KEY or ANTHROPIC_API_KEY), or set the value yourself with scope FIELD. Nothing was changed.`,
  );
}

/** A generation whose steps failed is an error for the caller; each failure is also on its asset. */
export function throwOnFailures(outcome: GenerationOutcome): void {
  if (outcome.failures.length === 0) return;
  throw upstreamUnavailable(outcome.failures.map((failure) => failure.error).join(' '), { failures: outcome.failures });
}

function valueAt(asset: unknown, segments: ReadonlyArray<string | number>): unknown {
  let current: unknown = asset;
  for (const segment of segments) current = current === null || current === undefined ? undefined : (current as Record<string | number, unknown>)[segment];
  return current;
}

/** The asset's sources and the rewrite's, each quote once, within the schema's limit. */
function mergeSources(existing: readonly AssetSource[], added: readonly AssetSource[]): AssetSource[] {
  const seen = new Set<string>();
  const merged: AssetSource[] = [];
  for (const source of [...added, ...existing]) {
    const key = `${source.url}\u0000${source.quote}`;
    if (seen.has(key)) continue;
    seen.add(key);
    merged.push(source);
  }
  return merged.slice(0, maximumSources);
}
