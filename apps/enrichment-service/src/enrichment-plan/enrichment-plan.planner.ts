import { describePlan, roundUsd, type PlanDescription } from './enrichment-plan.narrative.js';
import { attributeNeeds, europeanGeographies } from './enrichment-plan.needs.js';
import {
  candidatesFor,
  defaultPlannerSettings,
  epsilon,
  evaluatePlan,
  measurePlan,
  planModel,
  type Candidate,
  type PlanMeasure,
  type PlanModel,
  type PlannerOptions,
  type PlannerSettings,
  type PlannerSource,
} from './enrichment-plan.simulation.js';
import type { CampaignTargeting } from './enrichment-plan.targeting.js';

/** What the planner maximises: value minus what the money would have to buy. */
function objective(measure: PlanMeasure, settings: PlannerSettings): number {
  return measure.value - settings.minimumGainPerUsd * measure.costUsd;
}

function withinBudget(measure: PlanMeasure, settings: PlannerSettings): boolean {
  return measure.costUsd <= settings.budgetUsdPerRecord + epsilon;
}

/** Whether going from `before` to `after` is worth it: enough gain, enough gain per dollar, within budget. */
function worthAdding(before: PlanMeasure, after: PlanMeasure, settings: PlannerSettings): boolean {
  const gain = after.value - before.value;
  const extraCost = after.costUsd - before.costUsd;
  return withinBudget(after, settings) && gain >= settings.minimumGain - epsilon && gain - settings.minimumGainPerUsd * extraCost > epsilon;
}

/** The smallest extra cost that orders two additions of equal ratio; keeps a free source from dividing by zero. */
const costFloorUsd = 0.0005;

/**
 * Greedy budgeted cover: adds, one at a time, the source with the most value per expected dollar
 * among those worth adding, until none is.
 */
function extendGreedily<Source extends PlannerSource>(start: readonly Candidate<Source>[], pool: readonly Candidate<Source>[], model: PlanModel): Candidate<Source>[] {
  const sequence = [...start];
  let current = measurePlan(sequence, model);
  for (;;) {
    let best: { candidate: Candidate<Source>; measure: PlanMeasure; ratio: number; gain: number } | undefined;
    for (const candidate of pool) {
      if (sequence.includes(candidate)) continue;
      const measure = measurePlan([...sequence, candidate], model);
      if (!worthAdding(current, measure, model.settings)) continue;
      const gain = measure.value - current.value;
      const ratio = gain / Math.max(measure.costUsd - current.costUsd, costFloorUsd);
      // Candidates come sorted by slug, so a strict comparison keeps the first of equals.
      if (!best || ratio > best.ratio + epsilon || (Math.abs(ratio - best.ratio) <= epsilon && gain > best.gain + epsilon)) best = { candidate, measure, ratio, gain };
    }
    if (!best) return sequence;
    sequence.push(best.candidate);
    current = best.measure;
  }
}

/**
 * Improves the order sources run in, by moving one source at a time to where the objective is
 * best (a broad source that runs on every record anyway should go first, so that the narrow ones
 * after it only see its misses).
 */
function improveOrder<Source extends PlannerSource>(sequence: Candidate<Source>[], model: PlanModel): Candidate<Source>[] {
  let current = sequence;
  let score = objective(measurePlan(current, model), model.settings);
  for (;;) {
    let best: { order: Candidate<Source>[]; score: number } | undefined;
    for (let from = 0; from < current.length; from += 1) {
      // Verifiers always run last, whatever their place in the sequence.
      if (current[from]!.verificationOnly) continue;
      for (let to = 0; to < current.length; to += 1) {
        if (to === from) continue;
        // Moving past sources that share no attribute with it changes neither cost nor coverage.
        const passed = current.slice(Math.min(from, to + (to > from ? 1 : 0)), Math.max(from, to + (to > from ? 1 : 0)));
        if (!passed.some((other) => other !== current[from] && (other.attributeMask & current[from]!.attributeMask) !== 0)) continue;
        const order = current.filter((_, index) => index !== from);
        order.splice(to, 0, current[from]!);
        const measure = measurePlan(order, model);
        const candidateScore = objective(measure, model.settings);
        if (withinBudget(measure, model.settings) && candidateScore > (best?.score ?? score) + epsilon) best = { order, score: candidateScore };
      }
    }
    if (!best) return current;
    current = best.order;
    score = best.score;
  }
}

/**
 * Drops sources that later additions made redundant: one whose removal raises the objective, or
 * that adds less than `minimumGain` and saves money. Repeats until every source earns its place.
 */
function prune<Source extends PlannerSource>(sequence: Candidate<Source>[], model: PlanModel): Candidate<Source>[] {
  const { settings } = model;
  let current = sequence;
  for (;;) {
    const measure = measurePlan(current, model);
    let best: { without: Candidate<Source>[]; score: number } | undefined;
    for (const candidate of current) {
      const without = current.filter((other) => other !== candidate);
      const reduced = measurePlan(without, model);
      const useless = measure.value - reduced.value < settings.minimumGain - epsilon && reduced.costUsd <= measure.costUsd + epsilon;
      const score = objective(reduced, settings);
      if (!withinBudget(reduced, settings)) continue;
      if ((useless || score > objective(measure, settings) + epsilon) && (!best || score > best.score + epsilon)) best = { without, score };
    }
    if (!best) return current;
    current = best.without;
  }
}

/** Reorders, prunes and extends until nothing changes (a reorder can free budget for one more source). */
function refine<Source extends PlannerSource>(start: readonly Candidate<Source>[], pool: readonly Candidate<Source>[], model: PlanModel): Candidate<Source>[] {
  let sequence = [...start];
  for (let round = 0; round < 4; round += 1) {
    const next = extendGreedily(prune(improveOrder(sequence, model), model), pool, model);
    if (next.length === sequence.length && next.every((candidate, index) => candidate === sequence[index])) break;
    sequence = next;
  }
  return prune(sequence, model);
}

function comparePlans(first: { sequence: Candidate[]; measure: PlanMeasure }, second: { sequence: Candidate[]; measure: PlanMeasure }, settings: PlannerSettings): number {
  const difference = objective(second.measure, settings) - objective(first.measure, settings);
  if (Math.abs(difference) > epsilon) return difference;
  if (Math.abs(first.measure.costUsd - second.measure.costUsd) > epsilon) return first.measure.costUsd - second.measure.costUsd;
  if (first.sequence.length !== second.sequence.length) return first.sequence.length - second.sequence.length;
  const [firstKey, secondKey] = [planKey(first.sequence), planKey(second.sequence)];
  return firstKey < secondKey ? -1 : firstKey > secondKey ? 1 : 0;
}

function planKey(sequence: readonly Candidate[]): string {
  return sequence.map((candidate) => candidate.source.slug).join(',');
}

/** How many single sources, best by value per dollar and best by value alone, the search starts from. */
const startsPerKind = 6;

/** How many of the best greedy plans get the costlier refinement (order, pruning, extension). */
const plansRefined = 3;

/**
 * The best plan found: the greedy cover, pruned, from nothing and from each of the most promising
 * single sources (which recovers plans a pure ratio greedy misses, such as one broad source that
 * beats several cheap narrow ones); the best few then refined by reordering (a broad source that
 * runs on every record anyway should go first, so that narrow ones only see its misses), pruning
 * and extending. Best by objective, then cost, then fewer sources, then slugs.
 */
export function choosePlan<Source extends PlannerSource>(pool: readonly Candidate<Source>[], model: PlanModel): Candidate<Source>[] {
  const empty = measurePlan([], model);
  const singles = pool
    .map((candidate) => ({ candidate, measure: measurePlan([candidate], model) }))
    .filter((single) => worthAdding(empty, single.measure, model.settings));
  const byRatio = singles.toSorted((first, second) => second.measure.value / Math.max(second.measure.costUsd, costFloorUsd) - first.measure.value / Math.max(first.measure.costUsd, costFloorUsd));
  const byValue = singles.toSorted((first, second) => second.measure.value - first.measure.value);
  const starts = [...new Set([...byRatio.slice(0, startsPerKind), ...byValue.slice(0, startsPerKind)].map((single) => single.candidate))];
  const scored = (sequence: Candidate<Source>[]) => ({ sequence, measure: measurePlan(sequence, model) });
  const greedy = [[], ...starts.map((candidate) => [candidate])].map((start) => scored(prune(extendGreedily(start, pool, model), model)));
  const distinct = [...new Map(greedy.toSorted((first, second) => comparePlans(first, second, model.settings)).map((plan) => [planKey(plan.sequence), plan])).values()];
  const refined = distinct.slice(0, plansRefined).map((plan) => scored(refine(plan.sequence, pool, model)));
  return [...refined, ...distinct].toSorted((first, second) => comparePlans(first, second, model.settings))[0]!.sequence;
}

export interface EnrichmentPlanResult<Source extends PlannerSource = PlannerSource> extends PlanDescription<Source> {
  budgetUsdPerRecord: number;
  /** Expected cost per record, rounded to 1/100 of a cent; the search never exceeds the budget. */
  estimatedCostPerRecordUsd: number;
}

/**
 * Plans the enrichment of records for a campaign's targeting from a catalog: which attributes are
 * needed (see `attributeNeeds`), which sources to run in which waterfall within the per-record
 * budget, what that costs, and what stays uncovered and why. Pure and deterministic: the same
 * targeting, catalog and options give the same plan.
 */
export function planEnrichment<Source extends PlannerSource>(targeting: CampaignTargeting, catalog: readonly Source[], options: PlannerOptions = {}): EnrichmentPlanResult<Source> {
  const settings: PlannerSettings = { ...defaultPlannerSettings, ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) };
  const needs = attributeNeeds(targeting);
  const model = planModel(needs, settings);
  const european = europeanGeographies(targeting.geographies);
  const pool = candidatesFor(catalog, model, european.length > 0);
  const plan = evaluatePlan(choosePlan(pool, model), model);
  const description = describePlan({ targeting, needs, plan, pool, catalog, settings, europeanGeographies: european, measure: (sequence) => measurePlan(sequence, model) });
  return {
    budgetUsdPerRecord: settings.budgetUsdPerRecord,
    estimatedCostPerRecordUsd: roundUsd(plan.costUsd),
    ...description,
  };
}
