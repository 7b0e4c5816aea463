import { badUserInput, notFound, parseInput } from '@gtm/runtime';
import { z } from 'zod';
import { assetKinds, type Asset, type AssetKind, type AssetSource } from '../assets/index.js';
import type { Campaign } from '../campaign/campaign.entity.js';
import type { AssetCorrectionService } from './asset-correction.service.js';
import { CorrectionScope } from './campaign-asset.entity.js';
import type { CorrectAssetInput } from './campaign-asset.input.js';
import type { CampaignAssetContext } from './campaign-asset.loaders.js';
import type { AssetRecord } from './campaign-asset.repository.js';
import type { AssetStatusType } from './campaign-asset.type.js';
import { requestGeneration, throwOnFailures, type GenerationEngine } from './generation.engine.js';

export interface CampaignAssetServiceOptions {
  engine: GenerationEngine;
  corrections: AssetCorrectionService;
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

/** A campaign's assets as the API shows them, `generateAsset` and `correctAsset` (API.md). */
export class CampaignAssetService {
  constructor(private readonly options: CampaignAssetServiceOptions) {}

  /** Below this confidence an asset shows as weak: the engine's threshold. */
  get weakConfidence(): number {
    return this.options.engine.weakConfidence;
  }

  /** The five assets of a campaign, batched across campaigns. */
  async assetsOf(context: CampaignAssetContext, campaignId: string): Promise<AssetRecord[]> {
    return context.loaders.assetsByCampaign.load(campaignId);
  }

  async contentOf(context: CampaignAssetContext, campaignId: string, kind: AssetKind): Promise<Asset | null> {
    const records = await this.assetsOf(context, campaignId);
    return records.find((record) => record.kind === kind)?.current?.content ?? null;
  }

  /** `generateAsset`: builds the kind (its missing, weak or stale prerequisites first) and returns the campaign. */
  async generateAsset(context: CampaignAssetContext, campaignId: string, kind: AssetKind, instructions: string | null | undefined): Promise<Campaign> {
    const fields = parseInput(z.object({ instructions: instructionsSchema }), { instructions });
    const campaign = await this.requireCampaign(context, campaignId);
    const outcome = await this.options.engine.generate(requestGeneration(context), campaign, {
      kinds: [kind],
      regenerate: [kind],
      instructions: fields.instructions ? { [kind]: fields.instructions } : undefined,
      website: context.loaders.website,
    });
    throwOnFailures(outcome);
    return this.afterWrites(context, campaign);
  }

  /** `correctAsset`: a FIELD, SECTION or GLOBAL correction; the assets built on it go STALE (and are rebuilt on request). */
  async correctAsset(context: CampaignAssetContext, input: CorrectAssetInput): Promise<Campaign> {
    const fields = parseInput(correctionSchema, { fieldPath: input.fieldPath, instructions: input.instructions });
    const campaign = await this.requireCampaign(context, input.campaignId);
    const { corrections } = this.options;
    let staled: AssetKind[];
    switch (input.scope) {
      case CorrectionScope.FIELD:
        if (!fields.fieldPath) throw badUserInput('A FIELD correction needs fieldPath, e.g. "keyFeatures[2]".', 'input.fieldPath');
        if (input.value === undefined) throw badUserInput('A FIELD correction needs value: the value to set at fieldPath (null clears a field that may be empty).', 'input.value');
        staled = await corrections.correctField(context, campaign, input.kind, fields.fieldPath, input.value);
        break;
      case CorrectionScope.SECTION:
        if (!fields.fieldPath) throw badUserInput('A SECTION correction needs fieldPath: the section to rewrite, e.g. "valuePropositions".', 'input.fieldPath');
        if (!fields.instructions) throw badUserInput('A SECTION correction needs instructions: how to rewrite the section.', 'input.instructions');
        staled = await corrections.rewriteSection(context, campaign, input.kind, fields.fieldPath, fields.instructions);
        break;
      default:
        if (!fields.instructions) throw badUserInput('A GLOBAL correction needs instructions: how to regenerate the asset.', 'input.instructions');
        staled = await corrections.regenerateWithInstructions(context, campaign, input.kind, fields.instructions);
    }
    if (input.regenerateStale && staled.length > 0) {
      throwOnFailures(await this.options.engine.generate(requestGeneration(context), campaign, { kinds: staled, website: context.loaders.website }));
    }
    return this.afterWrites(context, campaign);
  }

  /** The request's campaign, read once: generation and corrections work on this entity. */
  private async requireCampaign(context: CampaignAssetContext, campaignId: string): Promise<Campaign> {
    const campaign = await context.loaders.campaignById.load(campaignId);
    if (!campaign) throw notFound('Campaign', campaignId);
    return campaign;
  }

  /** The campaign to answer with: its assets and corrections are read again, since the writes ran beside the request's loaders. */
  private afterWrites(context: CampaignAssetContext, campaign: Campaign): Campaign {
    context.loaders.assetsByCampaign.clear(campaign.id);
    context.loaders.correctionsByCampaign.clear(campaign.id);
    return campaign;
  }
}
