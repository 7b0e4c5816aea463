import { OptionalProps, type Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import { AssetKind, type Asset, type AssetSource } from '../assets/index.js';

/** API.md `AssetState`. MISSING is also what a kind without a row reads as. */
export enum AssetState {
  MISSING = 'MISSING',
  GENERATING = 'GENERATING',
  READY = 'READY',
  STALE = 'STALE',
  FAILED = 'FAILED',
}

/** How a version came to be. */
export enum AssetOrigin {
  GENERATED = 'GENERATED',
  FIELD_CORRECTION = 'FIELD_CORRECTION',
  SECTION_CORRECTION = 'SECTION_CORRECTION',
  GLOBAL_CORRECTION = 'GLOBAL_CORRECTION',
}

/** The versions of its prerequisites an asset was built on, e.g. `{ PRODUCT_OVERVIEW: 3 }`. */
export type AssetBasis = Partial<Record<AssetKind, number>>;

/** A website passage a version was given, as it was given (the text is what grounding checked). */
export interface UsedPassage {
  pageUrl: string;
  heading: string;
  score: number;
  text: string;
}

/** What the grounding check found, kept with the version. */
export interface GroundingSummary {
  supportedQuotes: number;
  /** Quotes found on another page than they named; re-pointed at that page. */
  misattributedQuotes: number;
  /** Quotes no passage contains; dropped from `sources`. */
  unsupportedQuotes: AssetSource[];
  checkedClaims: number;
  unsupportedClaims: Array<{ fieldPath: string; text: string }>;
}

/** What the model calls cost, when a model answered. */
export interface VersionUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  cached: boolean;
}

/** The state of one asset of a campaign; the content is in the version `currentVersion`. */
@Entity({ tableName: 'campaign_asset' })
export class CampaignAsset extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  campaignId!: string;

  @Enum({ items: () => AssetKind, nativeEnumName: undefined })
  kind!: AssetKind;

  @Enum({ items: () => AssetState, nativeEnumName: undefined })
  state: Opt<AssetState> = AssetState.MISSING;

  /** The version the campaign shows; null until one exists (a first generation that failed). */
  @Property({ type: 'integer', nullable: true })
  currentVersion: number | null = null;

  /** Why the last generation failed, for the user. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  /** Which change made it STALE, e.g. "TARGET_PERSONA was corrected (version 3)". */
  @Property({ type: 'text', nullable: true })
  staleReason: string | null = null;

  /** When `state` last changed: a GENERATING state far older than any generation can take was interrupted. */
  @Property({ type: 'datetime' })
  stateChangedAt: Opt<Date> = new Date();
}

/** One generation or correction of an asset; never changed once written. */
@Entity({ tableName: 'campaign_asset_version' })
export class CampaignAssetVersion extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  campaignId!: string;

  @Enum({ items: () => AssetKind, nativeEnumName: undefined })
  kind!: AssetKind;

  /** 1, 2, 3 … per campaign and kind. */
  @Property({ type: 'integer' })
  version!: number;

  @Enum({ items: () => AssetOrigin, nativeEnumName: undefined })
  origin!: AssetOrigin;

  /** The asset as its schema (assets/asset-schemas.ts) describes it, `sources` included. */
  @Property({ type: 'json' })
  content!: Asset;

  /** 0..1, after grounding (assets/grounding.ts `groundedConfidence`). */
  @Property({ type: 'double' })
  confidence!: number;

  /** `openai`, `anthropic`, `openai-compatible`, `offline`; `user` for a field correction. */
  @Property({ type: 'text' })
  provider!: string;

  @Property({ type: 'text' })
  model!: string;

  /** The task's version (its prompt, schema and offline answer). */
  @Property({ type: 'text' })
  promptVersion!: string;

  /**
   * The asset's instructions (generateAsset's, a GLOBAL correction's), carried by the corrections
   * made on it; a rebuild nobody asked for by name follows them again. A SECTION correction's
   * instructions are on its correction.
   */
  @Property({ type: 'text', nullable: true })
  instructions: string | null = null;

  @Property({ type: 'json' })
  basedOn: Opt<AssetBasis> = {};

  /** The website analysis the passages came from. */
  @Property({ type: 'datetime', nullable: true })
  websiteAnalyzedAt: Date | null = null;

  @Property({ type: 'json' })
  passages: Opt<UsedPassage[]> = [];

  @Property({ type: 'json' })
  grounding!: GroundingSummary;

  /** What the user should know about this version (notes that could not be applied, dropped quotes …). */
  @Property({ type: 'json' })
  warnings: Opt<string[]> = [];

  @Property({ type: 'json', nullable: true })
  usage: VersionUsage | null = null;
}

/** Scope of a correction (API.md `CorrectAssetInput.scope`). */
export enum CorrectionScope {
  FIELD = 'FIELD',
  SECTION = 'SECTION',
  GLOBAL = 'GLOBAL',
}

/** One correction the user made, with the versions before and after it. */
@Entity({ tableName: 'campaign_correction' })
export class CampaignCorrection extends TenantScopedEntity {
  // `unknown` admits null, but neither MikroORM's nullable check nor the Opt brand can see that.
  declare [OptionalProps]?: 'value';

  @Property({ type: 'uuid' })
  campaignId!: string;

  @Enum({ items: () => AssetKind, nativeEnumName: undefined })
  kind!: AssetKind;

  @Enum({ items: () => CorrectionScope, nativeEnumName: undefined })
  scope!: CorrectionScope;

  /** The field set (FIELD) or rewritten (SECTION), in the form setFieldAtPath prints, e.g. `keyFeatures[2]`. */
  @Property({ type: 'text', nullable: true })
  fieldPath: string | null = null;

  /** The value a FIELD correction set, as validated. */
  @Property({ type: 'json', nullable: true })
  value: unknown = null;

  @Property({ type: 'text', nullable: true })
  instructions: string | null = null;

  @Property({ type: 'integer' })
  beforeVersion!: number;

  @Property({ type: 'integer' })
  afterVersion!: number;

  /** The assets this correction made STALE. */
  @Property({ type: 'json' })
  staleKinds: Opt<AssetKind[]> = [];
}
