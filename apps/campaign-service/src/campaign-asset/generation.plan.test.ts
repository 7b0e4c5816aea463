import { describe, expect, it } from '@jest/globals';
import { AssetKind, assetKinds, assetTaskOf } from '../assets/index.js';
import { AssetOrigin, AssetState } from './campaign-asset.entity.js';
import { planGeneration, StepReason, type AssetSnapshot, type PlanInput } from './generation.plan.js';

const { PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA, POSITIONING, EMAIL_SEQUENCE } = AssetKind;
const analysedAt = new Date('2026-11-20T10:00:00Z');

/** A READY, strong, model-built asset, unless overridden. */
const asset = (kind: AssetKind, overrides: Partial<AssetSnapshot> = {}): AssetSnapshot => ({
  kind,
  state: AssetState.READY,
  version: 1,
  confidence: 0.8,
  provider: 'openai',
  promptVersion: assetTaskOf(kind).version,
  origin: AssetOrigin.GENERATED,
  websiteAnalyzedAt: analysedAt,
  ...overrides,
});

const allReady = (overrides: Partial<Record<AssetKind, Partial<AssetSnapshot>>> = {}) => new Map(assetKinds.map((kind) => [kind, asset(kind, overrides[kind])]));

const plan = (input: Partial<PlanInput> & Pick<PlanInput, 'assets' | 'kinds'>) => planGeneration({ weakConfidence: 0.5, modelAvailable: true, ...input });
const kindsOf = (steps: { kind: AssetKind }[]) => steps.map((step) => step.kind);

describe('planGeneration', () => {
  it('builds a new campaign in build order, each step waiting for the prerequisites it reads', () => {
    const { steps } = plan({ assets: new Map(), kinds: [EMAIL_SEQUENCE] });
    expect(steps).toEqual([
      { kind: PRODUCT_OVERVIEW, reason: StepReason.MISSING, waitsFor: [] },
      { kind: TARGET_COMPANY, reason: StepReason.MISSING, waitsFor: [PRODUCT_OVERVIEW] },
      { kind: TARGET_PERSONA, reason: StepReason.MISSING, waitsFor: [PRODUCT_OVERVIEW, TARGET_COMPANY] },
      { kind: POSITIONING, reason: StepReason.MISSING, waitsFor: [PRODUCT_OVERVIEW, TARGET_PERSONA] },
      { kind: EMAIL_SEQUENCE, reason: StepReason.MISSING, waitsFor: [PRODUCT_OVERVIEW, TARGET_PERSONA, POSITIONING] },
    ]);
  });

  it('builds only the prerequisites a kind needs', () => {
    expect(kindsOf(plan({ assets: new Map(), kinds: [TARGET_COMPANY] }).steps)).toEqual([PRODUCT_OVERVIEW, TARGET_COMPANY]);
  });

  it('builds nothing when everything asked for is ready and sound', () => {
    expect(plan({ assets: allReady(), kinds: assetKinds }).steps).toEqual([]);
  });

  it('rebuilds a kind asked for by name; what is built on it but not asked for is left to go stale', () => {
    const { steps } = plan({ assets: allReady(), kinds: [PRODUCT_OVERVIEW], regenerate: [PRODUCT_OVERVIEW] });
    expect(steps).toEqual([{ kind: PRODUCT_OVERVIEW, reason: StepReason.REQUESTED, waitsFor: [] }]);
  });

  it('rebuilds a stale prerequisite, then everything up to the kind asked for on top of it', () => {
    const { steps } = plan({ assets: allReady({ TARGET_COMPANY: { state: AssetState.STALE } }), kinds: [EMAIL_SEQUENCE] });
    expect(steps.map((step) => [step.kind, step.reason])).toEqual([
      [TARGET_COMPANY, StepReason.STALE],
      [TARGET_PERSONA, StepReason.PREREQUISITE_REBUILT],
      [POSITIONING, StepReason.PREREQUISITE_REBUILT],
      [EMAIL_SEQUENCE, StepReason.PREREQUISITE_REBUILT],
    ]);
  });

  it('retries failed assets, with or without content', () => {
    const failed = allReady({ PRODUCT_OVERVIEW: { state: AssetState.FAILED } });
    failed.set(POSITIONING, asset(POSITIONING, { state: AssetState.FAILED, version: null, confidence: null }));
    const { steps } = plan({ assets: failed, kinds: [POSITIONING] });
    expect(steps.map((step) => [step.kind, step.reason])).toEqual([
      [PRODUCT_OVERVIEW, StepReason.FAILED],
      [TARGET_COMPANY, StepReason.PREREQUISITE_REBUILT],
      [TARGET_PERSONA, StepReason.PREREQUISITE_REBUILT],
      [POSITIONING, StepReason.FAILED],
    ]);
  });

  describe('weak prerequisites (confidence below 0.5)', () => {
    const weakOffline = { confidence: 0.3, provider: 'offline' };

    it('are rebuilt once a model can do better than the offline answer', () => {
      const { steps } = plan({ assets: allReady({ PRODUCT_OVERVIEW: weakOffline }), kinds: [TARGET_COMPANY], modelAvailable: true });
      expect(steps.map((step) => [step.kind, step.reason])).toEqual([
        [PRODUCT_OVERVIEW, StepReason.WEAK],
        [TARGET_COMPANY, StepReason.PREREQUISITE_REBUILT],
      ]);
    });

    it('are kept when rebuilding would ask the same question of the same providers', () => {
      const result = plan({ assets: allReady({ PRODUCT_OVERVIEW: weakOffline }), kinds: [TARGET_COMPANY], modelAvailable: false, websiteAnalyzedAt: analysedAt });
      expect(result.steps).toEqual([]);
      expect(result.weakKept).toEqual([PRODUCT_OVERVIEW]);
    });

    it('are rebuilt when the website was analysed again since, or their prompt changed', () => {
      const assets = allReady({ PRODUCT_OVERVIEW: { confidence: 0.4 }, TARGET_COMPANY: { confidence: 0.4, promptVersion: 'old' } });
      const newer = plan({ assets, kinds: [PRODUCT_OVERVIEW], websiteAnalyzedAt: new Date(analysedAt.getTime() + 1000) });
      expect(kindsOf(newer.steps)).toEqual([PRODUCT_OVERVIEW]);
      const prompt = plan({ assets, kinds: [TARGET_COMPANY], websiteAnalyzedAt: analysedAt });
      expect(prompt.steps.map((step) => [step.kind, step.reason])).toEqual([[TARGET_COMPANY, StepReason.WEAK]]);
    });

    it('are never rebuilt for weakness once the user corrected them', () => {
      const result = plan({ assets: allReady({ PRODUCT_OVERVIEW: { ...weakOffline, origin: AssetOrigin.FIELD_CORRECTION } }), kinds: [TARGET_COMPANY], modelAvailable: true });
      expect(result.steps).toEqual([]);
      expect(result.weakKept).toEqual([PRODUCT_OVERVIEW]);
    });
  });
});
