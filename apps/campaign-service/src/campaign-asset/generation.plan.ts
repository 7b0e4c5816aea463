import { assetTaskOf, buildOrderOf, prerequisitesOf, type AssetKind } from '../assets/index.js';
import { AssetOrigin, AssetState } from './campaign-asset.entity.js';
import type { AssetRecord } from './campaign-asset.repository.js';

/** What planning reads about one asset of the campaign. */
export interface AssetSnapshot {
  kind: AssetKind;
  /** As readers see it: a GENERATING state older than any generation takes reads as FAILED. */
  state: AssetState;
  /** The current version, null when there is none. */
  version: number | null;
  confidence: number | null;
  provider: string | null;
  promptVersion: string | null;
  origin: AssetOrigin | null;
  websiteAnalyzedAt: Date | null;
}

/** Why a step is in the plan. */
export enum StepReason {
  /** Asked for by name: generateAsset's kind, a global correction, `regenerate`. */
  REQUESTED = 'REQUESTED',
  MISSING = 'MISSING',
  FAILED = 'FAILED',
  /** Built on an older version of one of its prerequisites. */
  STALE = 'STALE',
  /** Low confidence, and something has changed that can make it better. */
  WEAK = 'WEAK',
  /** A prerequisite is rebuilt in this run, so the version it is built on would go stale. */
  PREREQUISITE_REBUILT = 'PREREQUISITE_REBUILT',
}

export interface PlannedStep {
  kind: AssetKind;
  reason: StepReason;
  /** Its prerequisites rebuilt earlier in the run: it is not built when one of them could not be. */
  waitsFor: AssetKind[];
}

export interface PlanInput {
  /** The campaign's assets; a kind without an entry is MISSING. */
  assets: ReadonlyMap<AssetKind, AssetSnapshot>;
  /** The kinds the caller needs present; their prerequisites are assessed too. */
  kinds: readonly AssetKind[];
  /** Kinds to rebuild even when ready. Default: none. */
  regenerate?: readonly AssetKind[];
  /** Below this confidence an asset is weak. */
  weakConfidence: number;
  /** Whether a language model (not only the offline provider) can answer now. */
  modelAvailable: boolean;
  /** The website's current analysis, when known; a weak asset built on an older one is rebuilt. */
  websiteAnalyzedAt?: Date | null;
}

export interface GenerationPlan {
  /** In build order: each step reads the ones before it. */
  steps: PlannedStep[];
  /** Weak assets kept as they are, because rebuilding them would ask the same question again. */
  weakKept: AssetKind[];
}

/** Whether an asset is present but weak: too little confidence to build on without a second look. */
export function isWeak(asset: AssetSnapshot | undefined, weakConfidence: number): boolean {
  return asset !== undefined && asset.version !== null && asset.confidence !== null && asset.confidence < weakConfidence;
}

/**
 * Why a weak asset is worth rebuilding now, or null. Rebuilding with the same prompt, providers and
 * website would ask the same question (the LLM cache would even give the same answer), so a weak
 * asset is rebuilt only when one of those has changed. A corrected asset holds the user's word and
 * is never rebuilt for weakness.
 */
function weakAndImprovable(asset: AssetSnapshot, input: PlanInput): boolean {
  if (!isWeak(asset, input.weakConfidence) || asset.origin !== AssetOrigin.GENERATED) return false;
  if (asset.promptVersion !== assetTaskOf(asset.kind).version) return true;
  if (asset.provider === 'offline' && input.modelAvailable) return true;
  const analyzedAt = input.websiteAnalyzedAt;
  return !!analyzedAt && (asset.websiteAnalyzedAt === null || asset.websiteAnalyzedAt.getTime() < analyzedAt.getTime());
}

function reasonFor(asset: AssetSnapshot | undefined, input: PlanInput): StepReason | null {
  if (!asset || asset.version === null) return asset?.state === AssetState.FAILED ? StepReason.FAILED : StepReason.MISSING;
  switch (asset.state) {
    case AssetState.STALE:
      return StepReason.STALE;
    case AssetState.FAILED:
      return StepReason.FAILED;
    // Another run is building it; building it here as well keeps this run from waiting on one it cannot see.
    case AssetState.GENERATING:
    case AssetState.MISSING:
      return StepReason.MISSING;
    default:
      return weakAndImprovable(asset, input) ? StepReason.WEAK : null;
  }
}

/**
 * What to build so that `kinds` are present and sound: each wanted kind and its prerequisites, in
 * build order, when it is missing, failed, stale, weak and improvable, asked for, or built on a
 * prerequisite this run rebuilds. Pure: the generation engine runs the plan.
 */
export function planGeneration(input: PlanInput): GenerationPlan {
  const regenerate = new Set(input.regenerate ?? []);
  const steps: PlannedStep[] = [];
  const planned = new Set<AssetKind>();
  const weakKept: AssetKind[] = [];
  for (const kind of buildOrderOf(input.kinds)) {
    const asset = input.assets.get(kind);
    const rebuiltPrerequisites = prerequisitesOf(kind).filter((prerequisite) => planned.has(prerequisite));
    let reason = regenerate.has(kind) ? StepReason.REQUESTED : reasonFor(asset, input);
    if (reason === null && rebuiltPrerequisites.length > 0) reason = StepReason.PREREQUISITE_REBUILT;
    if (reason === null) {
      if (isWeak(asset, input.weakConfidence)) weakKept.push(kind);
      continue;
    }
    planned.add(kind);
    steps.push({ kind, reason, waitsFor: rebuiltPrerequisites });
  }
  return { steps, weakKept };
}

/** What planning reads of each stored asset. */
export function snapshotsOf(records: readonly AssetRecord[]): Map<AssetKind, AssetSnapshot> {
  return new Map(
    records.map((record): [AssetKind, AssetSnapshot] => {
      const current = record.current;
      return [
        record.kind,
        {
          kind: record.kind,
          state: record.state,
          version: current?.version ?? null,
          confidence: current?.confidence ?? null,
          provider: current?.provider ?? null,
          promptVersion: current?.promptVersion ?? null,
          origin: current?.origin ?? null,
          websiteAnalyzedAt: current?.websiteAnalyzedAt ?? null,
        },
      ];
    }),
  );
}
