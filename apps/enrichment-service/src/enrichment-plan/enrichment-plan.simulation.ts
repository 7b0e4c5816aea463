// What a plan is made of and what it achieves: the planner's settings, the sources it may use
// (candidates), and the simulation of a sequence of sources on an average record. The search for
// the best sequence is in enrichment-plan.planner.ts.
import { DataSourceEstimateBasis, type DataSource } from '../data-source/data-source.entity.js';
import { attributeDefinition, type EnrichmentAttribute } from '../data-source/data-source.vocabulary.js';
import type { AttributeNeed } from './enrichment-plan.needs.js';
import { defaultBudgetUsdPerRecord } from './enrichment-plan.targeting.js';

/** What the planner reads of a catalog entry. */
export type PlannerSource = Pick<
  DataSource,
  'slug' | 'name' | 'category' | 'categories' | 'attributes' | 'costPerRecordUsd' | 'chargedOnlyWhenFound' | 'quality' | 'apiAvailable' | 'gdprFriendly' | 'available' | 'estimateBasis'
>;

export interface PlannerOptions {
  /** Most the plan may cost per record of the list, in expected USD. Default: `defaultBudgetUsdPerRecord`, 0.25. */
  budgetUsdPerRecord?: number;
  /** Coverage at which an attribute counts as done: past it, a source adds no value for it. Default: 0.9. */
  targetCoverage?: number;
  /**
   * Share of a further source's hit rate that remains on the records better sources missed, applied
   * once per source ranked above it. Misses are correlated (a person hard to find in one database is
   * hard in the next), so a second finder does not find 55 % of the rest just because it finds 55 %
   * of all. Default: 0.7.
   */
  overlapFactor?: number;
  /**
   * Smallest gain in value (importance × coverage) worth adding a source for: every provider is one
   * more account, integration and failure mode. Default: 0.08, 8 % more records with a key attribute.
   */
  minimumGain?: number;
  /**
   * Value a source must add per USD of expected cost: one dollar per record must buy at least one
   * key attribute (importance 1) on every record. Default: 1.
   */
  minimumGainPerUsd?: number;
  /** Consider sources without an API (manual research, in-product only). Default: false, a plan runs unattended. */
  includeSourcesWithoutApi?: boolean;
  /**
   * For European targets, what remains of a non-GDPR-friendly source's person attributes: thinner
   * European coverage and a weaker legal basis for personal data. Default: 0.8.
   */
  europeanPersonDataFactor?: number;
  /** What remains of the figures of a source known only by its category: an unknown is worth less than a measured. Default: 0.75. */
  categoryEstimateFactor?: number;
}

export type PlannerSettings = Required<PlannerOptions>;

export const defaultPlannerSettings: PlannerSettings = {
  budgetUsdPerRecord: defaultBudgetUsdPerRecord,
  targetCoverage: 0.9,
  overlapFactor: 0.7,
  minimumGain: 0.08,
  minimumGainPerUsd: 1,
  includeSourcesWithoutApi: false,
  europeanPersonDataFactor: 0.8,
  categoryEstimateFactor: 0.75,
};

/** A source the planner may use, with what it yields for each needed attribute. */
export interface Candidate<Source extends PlannerSource = PlannerSource> {
  source: Source;
  /** Per needed attribute: how often it returns something (billing) and a right value (coverage × quality × factors). */
  estimates: Map<EnrichmentAttribute, { hitRate: number; yield: number }>;
  costUsd: number;
  /** Only verifies what earlier steps found (email verifiers): runs after every finder. */
  verificationOnly: boolean;
  /** The estimates by index into the needs, prerequisites first, for the simulation's inner loop. */
  entries: { index: number; prerequisite: number; hitRate: number; yield: number }[];
  /** Bit i set when it covers need i (the vocabulary has fewer than 32 attributes). */
  attributeMask: number;
}

/** One source in a plan, as the plan runs it. */
export interface PlanStep<Source extends PlannerSource = PlannerSource> {
  candidate: Candidate<Source>;
  /** The needed attributes it is called for or fills on the way, in vocabulary order. */
  attributes: EnrichmentAttribute[];
  /** Share of records it runs on: those still missing one of its attributes. */
  callShare: number;
  expectedCostUsd: number;
  /** Per attribute, the sources that ran before it in that attribute's waterfall. */
  predecessors: Map<EnrichmentAttribute, string[]>;
}

export interface PlanEvaluation<Source extends PlannerSource = PlannerSource> {
  steps: PlanStep<Source>[];
  /** Expected share of records with a right value, per needed attribute. */
  coverage: Map<EnrichmentAttribute, number>;
  costUsd: number;
  /** Σ importance × min(coverage, target). */
  value: number;
}

/** What a plan achieves, as the search compares plans. */
export interface PlanMeasure {
  value: number;
  costUsd: number;
}

/** The needs in the form the simulation reads. */
export interface PlanModel {
  needs: readonly AttributeNeed[];
  /** Per need, the index of the need it depends on, or -1. */
  prerequisites: Int32Array;
  settings: PlannerSettings;
}

/** Below this, two figures are equal. */
export const epsilon = 1e-9;

/** Indexes the needs and their prerequisites for `simulate`. */
export function planModel(needs: readonly AttributeNeed[], settings: PlannerSettings): PlanModel {
  const indexes = new Map(needs.map((need, index) => [need.attribute, index]));
  const prerequisites = Int32Array.from(needs, (need) => {
    const dependsOn = attributeDefinition(need.attribute).dependsOn;
    return dependsOn === undefined ? -1 : (indexes.get(dependsOn as EnrichmentAttribute) ?? -1);
  });
  return { needs, prerequisites, settings };
}

/** The sources worth considering for these needs, sorted by slug so that every tie breaks the same way. */
export function candidatesFor<Source extends PlannerSource>(catalog: readonly Source[], model: PlanModel, european: boolean): Candidate<Source>[] {
  const { settings } = model;
  const indexes = new Map(model.needs.map((need, index) => [need.attribute, index]));
  const candidates: Candidate<Source>[] = [];
  for (const source of catalog.toSorted((first, second) => (first.slug < second.slug ? -1 : 1))) {
    if (!source.available || source.costPerRecordUsd === null) continue;
    if (!source.apiAvailable && !settings.includeSourcesWithoutApi) continue;
    const estimates = new Map<EnrichmentAttribute, { hitRate: number; yield: number }>();
    for (const estimate of source.attributes) {
      if (!indexes.has(estimate.attribute)) continue;
      let factor = source.estimateBasis === DataSourceEstimateBasis.CATEGORY_DEFAULTS ? settings.categoryEstimateFactor : 1;
      if (european && estimate.attribute.startsWith('person.') && !source.gdprFriendly) factor *= settings.europeanPersonDataFactor;
      const value = estimate.coverage * estimate.quality * factor;
      if (value > 0) estimates.set(estimate.attribute, { hitRate: estimate.coverage, yield: value });
    }
    if (estimates.size === 0) continue;
    const entries = [...estimates]
      .map(([attribute, estimate]) => ({ index: indexes.get(attribute)!, prerequisite: model.prerequisites[indexes.get(attribute)!]!, ...estimate }))
      .toSorted((first, second) => Number(first.prerequisite >= 0) - Number(second.prerequisite >= 0) || first.index - second.index);
    const verificationOnly = entries.every((entry) => entry.prerequisite >= 0);
    const attributeMask = entries.reduce((mask, entry) => mask | (1 << entry.index), 0);
    candidates.push({ source, estimates, costUsd: source.costPerRecordUsd, verificationOnly, entries, attributeMask });
  }
  return candidates;
}

type StepTrace<Source extends PlannerSource> = (candidate: Candidate<Source>, assigned: number[], callShare: number, expectedCostUsd: number) => void;

/**
 * Share of records a set of finders covers: 1 − Π(1 − yield × overlapFactor^rank), ranks taken
 * from the highest yield down, so that it depends on the set and not on the order (order only
 * decides who pays for the records found twice).
 */
function unionCoverage(yieldsDescending: readonly number[], overlapFactor: number): number {
  let missed = 1;
  for (let rank = 0; rank < yieldsDescending.length; rank += 1) missed *= 1 - yieldsDescending[rank]! * overlapFactor ** rank;
  return 1 - missed;
}

function insertDescending(values: number[], value: number): void {
  let index = 0;
  while (index < values.length && values[index]! >= value) index += 1;
  values.splice(index, 0, value);
}

/**
 * Runs a plan on an average record, as waterfalls: finders in the order given, then verifiers (an
 * email is verified once found). For each attribute a finder is called on the records still missing
 * it, unless the attribute already reached the target coverage; an attribute that depends on
 * another (email verification) comes along with the finder's lookup of what it depends on, and a
 * verifier runs on the values found but not verified yet. Misses are taken to nest (a company an
 * earlier source does not know lacks all its fields there), so a source runs on the largest of its
 * attributes' missing shares, and its expected cost is list price × that share × (its hit rate on
 * those records, when it bills only results). What the finders of an attribute cover together is
 * `unionCoverage` of their yields.
 */
function simulate<Source extends PlannerSource>(sequence: readonly Candidate<Source>[], model: PlanModel, trace?: StepTrace<Source>): { coverage: Float64Array; value: number; costUsd: number } {
  const { needs, prerequisites, settings } = model;
  const coverage = new Float64Array(needs.length);
  const missing = new Float64Array(needs.length);
  const assigned = new Uint8Array(needs.length);
  const findersYields: number[][] = needs.map(() => []);
  const verifiers = new Int32Array(needs.length);
  let costUsd = 0;
  for (const verifying of [false, true]) {
    for (const candidate of sequence) {
      if (candidate.verificationOnly !== verifying) continue;
      assigned.fill(0);
      let callShare = 0;
      for (const entry of candidate.entries) {
        const before = coverage[entry.index]!;
        if (before >= settings.targetCoverage - epsilon) continue;
        let share: number;
        if (entry.prerequisite < 0) share = 1 - before;
        else if (verifying) share = coverage[entry.prerequisite]! - before;
        // A finder verifies only what it finds: it rides along on its own lookup of the prerequisite.
        else share = assigned[entry.prerequisite] ? missing[entry.prerequisite]! : 0;
        if (share <= epsilon) continue;
        missing[entry.index] = share;
        assigned[entry.index] = 1;
        if (share > callShare) callShare = share;
      }
      let hitRate = 0;
      for (const entry of candidate.entries) {
        if (!assigned[entry.index]) continue;
        const earlier = verifying ? verifiers[entry.index]! : findersYields[entry.index]!.length;
        const overlap = settings.overlapFactor ** earlier;
        if (entry.hitRate * overlap > hitRate) hitRate = entry.hitRate * overlap;
        if (verifying || entry.prerequisite >= 0) {
          // Verifiers and finders' verification only act on the records they run on.
          coverage[entry.index] = coverage[entry.index]! + missing[entry.index]! * entry.yield * overlap;
          if (verifying) verifiers[entry.index] = earlier + 1;
          else findersYields[entry.index]!.push(entry.yield);
        } else {
          insertDescending(findersYields[entry.index]!, entry.yield);
          coverage[entry.index] = unionCoverage(findersYields[entry.index]!, settings.overlapFactor);
        }
      }
      const expectedCostUsd = candidate.costUsd * callShare * (candidate.source.chargedOnlyWhenFound ? hitRate : 1);
      costUsd += expectedCostUsd;
      if (trace) trace(candidate, candidate.entries.filter((entry) => assigned[entry.index]).map((entry) => entry.index), callShare, expectedCostUsd);
    }
  }
  let value = 0;
  for (let index = 0; index < needs.length; index += 1) {
    // An email is verified no more often than it is found.
    const prerequisite = prerequisites[index]!;
    if (prerequisite >= 0) coverage[index] = Math.min(coverage[index]!, coverage[prerequisite]!);
    value += needs[index]!.importance * Math.min(coverage[index]!, settings.targetCoverage);
  }
  return { coverage, value, costUsd };
}

/** What a sequence of sources achieves and costs per record. */
export function measurePlan(sequence: readonly Candidate[], model: PlanModel): PlanMeasure {
  const { value, costUsd } = simulate(sequence, model);
  return { value, costUsd };
}

/** The same, with each step's share of records, cost and place in the waterfalls, for people to read. */
export function evaluatePlan<Source extends PlannerSource>(sequence: readonly Candidate<Source>[], model: PlanModel): PlanEvaluation<Source> {
  const steps: PlanStep<Source>[] = [];
  const waterfalls = new Map<EnrichmentAttribute, string[]>();
  const result = simulate(sequence, model, (candidate, assigned, callShare, expectedCostUsd) => {
    const attributes = assigned.toSorted((first, second) => first - second).map((index) => model.needs[index]!.attribute);
    const predecessors = new Map<EnrichmentAttribute, string[]>();
    for (const attribute of attributes) {
      predecessors.set(attribute, waterfalls.get(attribute) ?? []);
      waterfalls.set(attribute, [...(waterfalls.get(attribute) ?? []), candidate.source.name]);
    }
    steps.push({ candidate, attributes, callShare, expectedCostUsd, predecessors });
  });
  const coverage = new Map(model.needs.map((need, index) => [need.attribute, result.coverage[index]!]));
  return { steps, coverage, costUsd: result.costUsd, value: result.value };
}

