import { DataSourceEstimateBasis } from '../data-source/data-source.entity.js';
import { attributeDefinition, enrichmentAttributes, type AttributeGroup, type EnrichmentAttribute } from '../data-source/data-source.vocabulary.js';
import type { AttributeNeed } from './enrichment-plan.needs.js';
import type { Candidate, PlanEvaluation, PlanMeasure, PlannerSettings, PlannerSource, PlanStep } from './enrichment-plan.simulation.js';
import type { CampaignTargeting } from './enrichment-plan.targeting.js';

/** A source the plan uses, and why. */
export interface SourceRecommendation<Source extends PlannerSource = PlannerSource> {
  /** The catalog entry. */
  dataSource: Source;
  name: string;
  slug: string;
  category: string;
  /** The needed attributes the plan calls it for. */
  attributesCovered: EnrichmentAttribute[];
  /** List price of one lookup. */
  costPerRecordUsd: number;
  /** What it costs per record of the list, given the records it runs on and how it bills. */
  expectedCostPerRecordUsd: number;
  /** Share of records it runs on, 0..1. */
  shareOfRecords: number;
  quality: number;
  rationale: string;
}

/** A needed attribute, why, and how well the plan covers it. */
export interface PlannedAttribute {
  attribute: EnrichmentAttribute;
  label: string;
  importance: number;
  reason: string;
  /** Expected share of records with a right value, 0..1. */
  expectedCoverage: number;
  /** The sources that look for it, in the order they run. */
  sources: string[];
}

export interface PlanDescription<Source extends PlannerSource = PlannerSource> {
  recommendations: SourceRecommendation<Source>[];
  workflow: string[];
  /** Needed attributes no chosen source covers, in vocabulary order. */
  uncoveredAttributes: EnrichmentAttribute[];
  attributes: PlannedAttribute[];
}

export interface PlanDescriptionInput<Source extends PlannerSource> {
  targeting: CampaignTargeting;
  needs: readonly AttributeNeed[];
  plan: PlanEvaluation<Source>;
  pool: readonly Candidate<Source>[];
  catalog: readonly Source[];
  settings: PlannerSettings;
  europeanGeographies: string[];
  measure: (sequence: Candidate<Source>[]) => PlanMeasure;
}

/** USD to 1/100 of a cent. */
export function roundUsd(amount: number): number {
  return Math.round(amount * 10_000) / 10_000;
}

function usd(amount: number): string {
  return `$${roundUsd(amount)}`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** `a`, `a and b`, `a, b and c`. */
function listing(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)}`;
}

function label(attribute: EnrichmentAttribute): string {
  return attributeDefinition(attribute).label;
}

function rationale<Source extends PlannerSource>(step: PlanStep<Source>, input: PlanDescriptionInput<Source>): string {
  const { source } = step.candidate;
  const labels = listing(step.attributes.map(label));
  const earlier = [...new Set([...step.predecessors.values()].flat())];
  const parts: string[] = [];
  if (step.candidate.verificationOnly) {
    parts.push(`Verifies the work emails found before it that are not verified yet, about ${percent(step.callShare)} of records, so that bounces stay low.`);
  } else {
    const share = step.callShare >= 0.995 ? 'Runs on every record' : `Runs only on the ${percent(step.callShare)} of records still missing ${labels}`;
    const after = earlier.length > 0 ? ` after ${listing(earlier)}` : '';
    parts.push(step.callShare >= 0.995 ? `${share} for ${labels}${after}.` : `${share}${after}.`);
    if (earlier.length === 0) parts.push(`Covers ${step.attributes.length} of the ${input.needs.length} needed attributes.`);
  }
  const billing = source.chargedOnlyWhenFound ? ', billed only when it finds something' : '';
  parts.push(`At ${usd(source.costPerRecordUsd!)} a lookup${billing}, about ${usd(step.expectedCostUsd)} per record of the list; estimated quality ${source.quality}.`);
  if (input.europeanGeographies.length > 0 && source.gdprFriendly && step.attributes.some((attribute) => attribute.startsWith('person.'))) {
    parts.push(`GDPR-friendly, so preferred for personal data in ${listing(input.europeanGeographies)}.`);
  }
  if (source.estimateBasis === DataSourceEstimateBasis.CATEGORY_DEFAULTS) parts.push('Its figures are its category’s defaults in the GTM tools list, not researched.');
  return parts.join(' ');
}

/** Per attribute, the names of the sources that look for it, in the order they run. */
function waterfalls(plan: PlanEvaluation): Map<EnrichmentAttribute, string[]> {
  const result = new Map<EnrichmentAttribute, string[]>();
  for (const step of plan.steps) {
    for (const attribute of step.attributes) result.set(attribute, [...(result.get(attribute) ?? []), step.candidate.source.name]);
  }
  return result;
}

function withSources(names: readonly string[]): string {
  return names.length === 1 ? `with ${names[0]}` : `with the waterfall ${names.join(' → ')}`;
}

/** `industry and employee count with Apollo.io; funding with Crunchbase`: attributes sharing a waterfall read together. */
function fragments(attributes: readonly EnrichmentAttribute[], sourcesByAttribute: Map<EnrichmentAttribute, string[]>): string {
  const groups = new Map<string, { attributes: EnrichmentAttribute[]; names: string[] }>();
  for (const attribute of attributes) {
    const names = sourcesByAttribute.get(attribute)!;
    const key = names.join('\u0000');
    const group = groups.get(key) ?? { attributes: [], names };
    group.attributes.push(attribute);
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => `${listing(group.attributes.map(label))} ${withSources(group.names)}`).join('; ');
}

function verificationStep(names: readonly string[], verifierNames: ReadonlySet<string>): string {
  const finders = names.filter((name) => !verifierNames.has(name));
  const verifiers = names.filter((name) => verifierNames.has(name));
  if (verifiers.length === 0) return `Rely on the verification status ${listing(finders)} ${finders.length === 1 ? 'returns' : 'return'} with each email; no separate verifier fits the plan.`;
  const scope = finders.length > 0 ? `the emails ${listing(finders, 'or')} did not already verify` : 'every email found';
  return `Verify the work emails before sending with ${verifiers.join(' → ')}, on ${scope}.`;
}

function workflowStep(group: AttributeGroup, attributes: EnrichmentAttribute[], sourcesByAttribute: Map<EnrichmentAttribute, string[]>, input: PlanDescriptionInput<PlannerSource>): string {
  const text = fragments(attributes, sourcesByAttribute);
  switch (group) {
    case 'company':
      return `Resolve ${text}.`;
    case 'technographics':
      return `Detect the ${text}.`;
    case 'people': {
      const titles = input.targeting.jobTitles;
      const persona = titles.length > 0 ? ` (${listing(titles.slice(0, 3), 'or')}${titles.length > 3 ? ' …' : ''})` : '';
      return `Find the people matching the persona${persona} and their ${text}.`;
    }
    case 'verification': {
      const verifierNames = new Set(input.plan.steps.filter((step) => step.candidate.verificationOnly).map((step) => step.candidate.source.name));
      return verificationStep(sourcesByAttribute.get(attributes[0]!)!, verifierNames);
    }
    case 'signals':
      return `Watch the buying signals: ${text}.`;
    default:
      return `Find the ${text}.`;
  }
}

/** Why nothing in the plan covers an attribute: the budget, the cost, a missing API, or the catalog. */
function uncoveredReason<Source extends PlannerSource>(attribute: EnrichmentAttribute, input: PlanDescriptionInput<Source>): string {
  const { plan, settings } = input;
  const sequence = plan.steps.map((step) => step.candidate);
  const options = input.pool
    .filter((candidate) => candidate.estimates.has(attribute))
    .map((candidate) => ({ candidate, extraCostUsd: input.measure([...sequence, candidate]).costUsd - plan.costUsd }))
    .toSorted((first, second) => first.extraCostUsd - second.extraCostUsd);
  const dependsOn = attributeDefinition(attribute).dependsOn as EnrichmentAttribute | undefined;
  if (dependsOn && (plan.coverage.get(dependsOn) ?? 0) === 0) return `it needs the ${label(dependsOn)} first, and that is not covered either`;
  const cheapest = options[0];
  if (cheapest) {
    const name = cheapest.candidate.source.name;
    if (plan.costUsd + cheapest.extraCostUsd > settings.budgetUsdPerRecord) {
      return `the budget ran out: the cheapest source for it, ${name}, would add about ${usd(cheapest.extraCostUsd)} per record to the ${usd(plan.costUsd)} planned, over the ${usd(settings.budgetUsdPerRecord)} budget`;
    }
    return `not worth its cost: the cheapest source for it, ${name}, would add about ${usd(cheapest.extraCostUsd)} per record for too little coverage`;
  }
  const covering = input.catalog.filter((source) => source.attributes.some((estimate) => estimate.attribute === attribute && estimate.coverage > 0));
  const manual = covering.filter((source) => source.available && !source.apiAvailable).map((source) => source.name);
  if (manual.length > 0) return `only sources without an API cover it (${listing(manual)}): research it by hand`;
  const gone = covering.filter((source) => !source.available).map((source) => source.name);
  if (gone.length > 0) return `only ${listing(gone)} covered it, and ${gone.length === 1 ? 'it is' : 'they are'} no longer available`;
  return 'no source in the catalog covers it';
}

/**
 * Everything a person reads of a plan: the recommendations with their rationale, the workflow as
 * ordered steps (company, technographics, people, email, verification, phone, signals, then what is
 * not covered and why, then how to run it), the uncovered attributes and each attribute's coverage.
 */
export function describePlan<Source extends PlannerSource>(input: PlanDescriptionInput<Source>): PlanDescription<Source> {
  const { plan, needs } = input;
  const recommendations = plan.steps
    .filter((step) => step.attributes.length > 0)
    .map((step) => ({
      dataSource: step.candidate.source,
      name: step.candidate.source.name,
      slug: step.candidate.source.slug,
      category: step.candidate.source.category,
      attributesCovered: step.attributes,
      costPerRecordUsd: step.candidate.source.costPerRecordUsd!,
      expectedCostPerRecordUsd: roundUsd(step.expectedCostUsd),
      shareOfRecords: Math.round(step.callShare * 1000) / 1000,
      quality: step.candidate.source.quality!,
      rationale: rationale(step, input),
    }));

  const sourcesByAttribute = waterfalls(plan);
  const needed = new Set(needs.map((need) => need.attribute));
  const uncoveredAttributes = needs.map((need) => need.attribute).filter((attribute) => !sourcesByAttribute.has(attribute));

  const steps: string[] = [];
  const groups = [...new Set(enrichmentAttributes.map((definition) => definition.group))];
  for (const group of groups) {
    const attributes = enrichmentAttributes
      .filter((definition) => definition.group === group)
      .map((definition) => definition.name as EnrichmentAttribute)
      .filter((attribute) => needed.has(attribute) && sourcesByAttribute.has(attribute));
    if (attributes.length > 0) steps.push(workflowStep(group, attributes, sourcesByAttribute, input as unknown as PlanDescriptionInput<PlannerSource>));
  }
  for (const attribute of uncoveredAttributes) steps.push(`Not covered: ${label(attribute)} (${attribute}), ${uncoveredReason(attribute, input)}.`);
  if (recommendations.length >= 2) {
    const orchestrators = input.catalog
      .filter((source) => source.available && source.categories.includes('Orchestration'))
      .map((source) => source.name)
      .toSorted();
    const tool = orchestrators.length > 0 ? ` in an orchestration tool such as ${listing(orchestrators, 'or')}` : '';
    steps.push(`Run the steps in this order${tool}; in a waterfall (A → B) each source only sees the records the ones before it missed.`);
  }

  const attributes = needs.map((need) => ({
    attribute: need.attribute,
    label: label(need.attribute),
    importance: need.importance,
    reason: need.reasons.join('; '),
    expectedCoverage: Math.round((plan.coverage.get(need.attribute) ?? 0) * 1000) / 1000,
    sources: sourcesByAttribute.get(need.attribute) ?? [],
  }));

  return { recommendations, workflow: steps.map((step, index) => `${index + 1}. ${step}`), uncoveredAttributes, attributes };
}
