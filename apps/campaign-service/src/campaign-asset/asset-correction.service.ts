import type { Llm } from '@gtm/llm';
import { badUserInput, conflict, upstreamUnavailable } from '@gtm/runtime';
import type { GraphQLError } from 'graphql';
import {
  AssetFieldError,
  assetSchemaOf,
  checkGrounding,
  dropUnsupportedSources,
  formatFieldPath,
  groundedConfidence,
  groundingSummary,
  groundingWarnings,
  inheritedPassages,
  maximumSources,
  parseFieldPath,
  schemaAtPath,
  sectionRewriteTask,
  setFieldAtPath,
  type Asset,
  type AssetKind,
  type AssetSource,
} from '../assets/index.js';
import type { Campaign } from '../campaign/campaign.entity.js';
import { distinctPassages } from '../website/website-context.js';
import { AssetOrigin, CorrectionScope, type CampaignAssetVersion } from './campaign-asset.entity.js';
import type { CampaignAssetContext } from './campaign-asset.loaders.js';
import type { CampaignAssetRepository, CorrectionDraft, VersionDraft } from './campaign-asset.repository.js';
import { requestGeneration, throwOnFailures, type GenerationEngine } from './generation.engine.js';

export interface AssetCorrectionServiceOptions {
  engine: GenerationEngine;
  repository: CampaignAssetRepository;
  llm: Llm;
}

/** How many times a field correction is re-applied when another write got in first. */
const correctionAttempts = 3;

/**
 * The three corrections of an asset, each a new version that makes what is built on it STALE:
 * FIELD sets a value (no model), SECTION has a model rewrite one section, GLOBAL regenerates the
 * asset following instructions. A correction that finds the asset changed under it changes
 * nothing and answers CONFLICT.
 */
export class AssetCorrectionService {
  constructor(private readonly options: AssetCorrectionServiceOptions) {}

  /** Sets the value at `fieldPath` as the user gave it; the kinds that went STALE come back. */
  async correctField(context: CampaignAssetContext, campaign: Campaign, kind: AssetKind, fieldPath: string, value: unknown): Promise<AssetKind[]> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.currentVersion(context, campaign, kind);
      let content: Asset;
      let path: string;
      try {
        path = formatFieldPath(parseFieldPath(fieldPath));
        content = setFieldAtPath<Asset>(current.content, assetSchemaOf(kind), path, value);
      } catch (error) {
        if (!(error instanceof AssetFieldError)) throw error;
        throw badUserInput(error.message, error.code === 'INVALID_FIELD_PATH' ? 'input.fieldPath' : 'input.value', { fieldPath: error.fieldPath, issues: error.issues });
      }
      // The user's value needs no website behind it: the version keeps its confidence and sources basis.
      const draft: VersionDraft = { ...carriedOver(current), origin: AssetOrigin.FIELD_CORRECTION, content, provider: 'user', model: 'user' };
      const correction: CorrectionDraft = { scope: CorrectionScope.FIELD, fieldPath: path, value, instructions: null };
      const recorded = await this.options.repository.recordCorrection(context.em, context.caller.tenantId, campaign.id, current.version, correction, draft);
      if (recorded) return recorded.recorded.staled;
      if (attempt >= correctionAttempts) throw conflict(`${kind} keeps changing while it is corrected; nothing was changed. Try again.`);
    }
  }

  /** Has a model rewrite the section at `fieldPath` following `instructions`, grounded like a generation. */
  async rewriteSection(context: CampaignAssetContext, campaign: Campaign, kind: AssetKind, fieldPath: string, instructions: string): Promise<AssetKind[]> {
    this.requireModel('Rewriting a section');
    const current = await this.currentVersion(context, campaign, kind);
    const schema = assetSchemaOf(kind);
    let path: string;
    let sectionSchema;
    try {
      const segments = parseFieldPath(fieldPath);
      path = formatFieldPath(segments);
      sectionSchema = schemaAtPath(schema, segments);
      if (!sectionSchema || segments[0] === 'sources') throw new AssetFieldError('INVALID_FIELD_PATH', `${path} is not a section of this asset.`, path);
      // The section must exist in the asset: a rewrite changes a value, it does not invent one.
      setFieldAtPath<Asset>(current.content, schema, path, valueAt(current.content, segments));
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
      .generateObject({ task, context: rewriteContext, prompt: task.buildPrompt(rewriteContext), attribution: requestGeneration(context).attribution })
      .catch((error: unknown) => {
        context.logger.warn({ err: error, kind }, 'a section could not be rewritten');
        throw modelUnavailable('Rewriting a section');
      });
    if (result.provider === 'offline') throw modelUnavailable('Rewriting a section');

    let content: Asset;
    try {
      content = setFieldAtPath<Asset>(current.content, schema, path, result.object.value);
    } catch (error) {
      if (!(error instanceof AssetFieldError)) throw error;
      throw upstreamUnavailable(`The model's rewrite of ${path} does not fit the asset (${error.message}); nothing was changed. Try other instructions, or set the value yourself with scope FIELD.`);
    }
    content = { ...content, sources: mergeSources(content.sources, result.object.sources) };
    const records = await this.options.repository.load(context.em, campaign.id);
    const passagesByKind = new Map(records.map((record) => [record.kind, record.current?.passages ?? []]));
    const report = checkGrounding(content, distinctPassages([...current.passages, ...inheritedPassages(kind, passagesByKind)]), { kind });
    // A rewrite never makes the asset more trusted than it was; unsupported new quotes and claims make it less.
    const confidence = Math.min(current.confidence, groundedConfidence(result.confidence, report));
    const draft: VersionDraft = {
      ...carriedOver(current),
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
    const recorded = await this.options.repository.recordCorrection(context.em, context.caller.tenantId, campaign.id, current.version, correction, draft);
    if (!recorded) throw conflict(`${kind} changed while its section was rewritten; nothing was changed. Try again.`);
    return recorded.recorded.staled;
  }

  /** Regenerates the asset following `instructions` (a model is required), recorded as a correction. */
  async regenerateWithInstructions(context: CampaignAssetContext, campaign: Campaign, kind: AssetKind, instructions: string): Promise<AssetKind[]> {
    this.requireModel('Regenerating an asset with instructions');
    const before = await this.currentVersion(context, campaign, kind);
    const outcome = await this.options.engine.generate(requestGeneration(context), campaign, {
      kinds: [kind],
      regenerate: [kind],
      instructions: { [kind]: instructions },
      globalCorrections: [kind],
      requireModel: [kind],
      website: context.loaders.website,
    });
    throwOnFailures(outcome);
    await this.options.repository.appendCorrection(context.em, context.caller.tenantId, campaign.id, kind, {
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

  private async currentVersion(context: CampaignAssetContext, campaign: Campaign, kind: AssetKind): Promise<CampaignAssetVersion> {
    const records = await this.options.repository.load(context.em, campaign.id);
    const current = records.find((record) => record.kind === kind)?.current;
    if (!current) throw badUserInput(`${kind} has not been generated yet, so there is nothing to correct: generate it first (generateAsset).`, 'input.kind');
    return current;
  }

  private requireModel(what: string): void {
    if (!this.options.engine.modelAvailable()) throw modelUnavailable(what);
  }
}

/**
 * What a correction's version keeps of the one it corrects, its instructions included: they are
 * the asset's, which a later rebuild follows again. A section's own instructions are the
 * correction's, kept with it.
 */
function carriedOver(current: CampaignAssetVersion): Omit<VersionDraft, 'origin' | 'content' | 'provider' | 'model'> {
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

function modelUnavailable(what: string): GraphQLError {
  return upstreamUnavailable(
    `${what} follows your instructions, which needs a language model, and none answered (the offline provider only extracts from the website). Give one its key (OPENAI_API_KEY or ANTHROPIC_API_KEY), or set the value yourself with scope FIELD. Nothing was changed.`,
  );
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
