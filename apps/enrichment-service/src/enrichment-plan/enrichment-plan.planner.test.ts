import { beforeAll, describe, expect, it } from '@jest/globals';
import { DataSourceEstimateBasis } from '../data-source/data-source.entity.js';
import { loadDataSourceCatalog, type DataSourceRecord } from '../data-source/data-source.seed.js';
import type { EnrichmentAttribute } from '../data-source/data-source.vocabulary.js';
import { attributeForSignal, attributeNeeds, europeanGeographies } from './enrichment-plan.needs.js';
import { planEnrichment } from './enrichment-plan.planner.js';
import { candidatesFor, defaultPlannerSettings, measurePlan, planModel, type Candidate, type PlannerSource } from './enrichment-plan.simulation.js';
import { parseCampaignTargeting, type CampaignTargeting } from './enrichment-plan.targeting.js';

let catalog: DataSourceRecord[];
beforeAll(async () => {
  catalog = await loadDataSourceCatalog();
});

const targeting = (fields: Partial<CampaignTargeting>): CampaignTargeting => parseCampaignTargeting(fields);

/** A made-up source: every figure the test does not give is neutral. */
function source(slug: string, coverage: Partial<Record<EnrichmentAttribute, number>>, overrides: Partial<PlannerSource> = {}): PlannerSource {
  return {
    slug,
    name: slug,
    category: 'Account Data',
    categories: ['Account Data'],
    attributes: Object.entries(coverage).map(([attribute, value]) => ({ attribute: attribute as EnrichmentAttribute, coverage: value, quality: overrides.quality ?? 0.9 })),
    costPerRecordUsd: 0.01,
    chargedOnlyWhenFound: false,
    quality: 0.9,
    apiAvailable: true,
    gdprFriendly: false,
    available: true,
    estimateBasis: DataSourceEstimateBasis.PROVIDER_RESEARCH,
    ...overrides,
  };
}

const salesLeaders = targeting({
  industries: ['SaaS'],
  employeeRange: '51-500',
  geographies: ['United States'],
  jobTitles: ['VP Sales', 'Head of Revenue Operations'],
  seniority: ['VP', 'Director'],
  buyingSignals: [
    { type: 'HIRING', priority: 'HIGH' },
    { type: 'funding round', priority: 'MEDIUM' },
  ],
});
const marketers = (geographies: string[]) => targeting({ industries: ['SaaS'], employeeRange: '51-500', geographies, jobTitles: ['Marketing Manager'] });
const recommendationsFor = (geographies: string[]) => planEnrichment(marketers(geographies), catalog).recommendations;

describe('attributes a targeting needs', () => {
  it('asks for identity, the firmographics it filters on, the persona’s contact data and each signal’s attribute', () => {
    const needs = attributeNeeds(salesLeaders);
    expect(needs.map((need) => need.attribute)).toEqual([
      'company.domain',
      'company.industry',
      'company.employeeCount',
      'company.location',
      'company.funding',
      'person.title',
      'person.seniority',
      'person.linkedinUrl',
      'person.email',
      'person.emailVerified',
      'person.phone',
      'signals.hiring',
    ]);
    const byAttribute = new Map(needs.map((need) => [need.attribute, need]));
    expect(byAttribute.get('company.employeeCount')?.reasons).toEqual(['to check the employee range (51-500)']);
    expect(byAttribute.get('signals.hiring')).toMatchObject({ importance: 0.8, reasons: ['to detect the buying signal “HIRING”, high priority'] });
    expect(byAttribute.get('person.phone')?.reasons[0]).toMatch(/the persona is senior \(VP, Director/);
  });

  it('asks for a company only when there is no persona, and for a phone only for senior personas', () => {
    expect(attributeNeeds(targeting({ industries: ['Retail'] })).map((need) => need.attribute)).toEqual(['company.domain', 'company.industry']);
    const juniors = attributeNeeds(targeting({ jobTitles: ['Account Executive'] })).map((need) => need.attribute);
    expect(juniors).toEqual(['company.domain', 'person.title', 'person.linkedinUrl', 'person.email', 'person.emailVerified']);
    expect(attributeNeeds(targeting({ jobTitles: ['Founder'] })).map((need) => need.attribute)).toContain('person.phone');
  });

  it('maps signal types to the attribute that reveals them, and says when it had to guess', () => {
    expect(attributeForSignal('HIRING')).toEqual({ attribute: 'signals.hiring', matched: true });
    expect(attributeForSignal('Series B funding')).toEqual({ attribute: 'company.funding', matched: true });
    expect(attributeForSignal('TECHNOLOGY_ADOPTION')).toEqual({ attribute: 'company.technologies', matched: true });
    expect(attributeForSignal('New VP of Sales hired')).toEqual({ attribute: 'signals.jobChange', matched: true });
    expect(attributeForSignal('Researching competitors on G2')).toEqual({ attribute: 'signals.intent', matched: true });
    expect(attributeForSignal('website visits')).toEqual({ attribute: 'signals.intent', matched: true });
    expect(attributeForSignal('Expansion into new markets')).toEqual({ attribute: 'signals.news', matched: true });
    expect(attributeForSignal('Quarterly planning season')).toEqual({ attribute: 'signals.news', matched: false });
    const guessed = attributeNeeds(targeting({ buyingSignals: [{ type: 'Quarterly planning season', priority: null }] }));
    expect(guessed.at(-1)).toMatchObject({ attribute: 'signals.news', importance: 0.6 });
    expect(guessed.at(-1)?.reasons[0]).toMatch(/not a standard signal type, so watched through company news/);
  });

  it('recognises European geographies', () => {
    expect(europeanGeographies(['United States', 'Germany', 'DACH', 'UK', 'Brazil', 'Northern Europe'])).toEqual(['Germany', 'DACH', 'UK', 'Northern Europe']);
  });
});

describe('enrichment planner', () => {
  it('plans a campaign on the seeded catalog within the default budget, in waterfalls, with a rationale per source', () => {
    const plan = planEnrichment(salesLeaders, catalog);
    expect(plan.budgetUsdPerRecord).toBe(0.25);
    expect(plan.estimatedCostPerRecordUsd).toBeGreaterThan(0);
    expect(plan.estimatedCostPerRecordUsd).toBeLessThanOrEqual(0.25);
    expect(plan.recommendations.reduce((total, recommendation) => total + recommendation.expectedCostPerRecordUsd, 0)).toBeCloseTo(plan.estimatedCostPerRecordUsd, 3);
    expect(plan.uncoveredAttributes).toEqual([]);
    // Apollo.io is the broadest source per dollar and runs on every record.
    expect(plan.recommendations.find((recommendation) => recommendation.slug === 'apollo-io')).toMatchObject({ shareOfRecords: 1, expectedCostPerRecordUsd: 0.05 });
    for (const recommendation of plan.recommendations) {
      expect(recommendation.rationale).toMatch(/per record of the list/);
      expect(recommendation.attributesCovered.length).toBeGreaterThan(0);
      expect(recommendation.dataSource.slug).toBe(recommendation.slug);
    }
    expect(plan.workflow[0]).toMatch(/^1\. Resolve company domain/);
    expect(plan.workflow.some((step) => /Find the work email with the waterfall .+ → /.test(step))).toBe(true);
    expect(plan.workflow.at(-1)).toMatch(/orchestration tool such as Clay or n8n/);
    // Never a source that has shut down or has no API.
    expect(plan.recommendations.map((recommendation) => recommendation.slug)).not.toContain('proxycurl');
    expect(plan.recommendations.map((recommendation) => recommendation.slug)).not.toContain('linkedin-sales-navigator');
  });

  it('covers a hiring signal with a source that reports job postings', () => {
    const plan = planEnrichment(salesLeaders, catalog);
    const hiring = plan.recommendations.filter((recommendation) => recommendation.attributesCovered.includes('signals.hiring'));
    expect(hiring.length).toBeGreaterThan(0);
    for (const recommendation of hiring) expect(recommendation.dataSource.attributes.map((estimate) => estimate.attribute)).toContain('signals.hiring');
    expect(plan.attributes.find((attribute) => attribute.attribute === 'signals.hiring')?.expectedCoverage).toBeGreaterThan(0.5);
    expect(plan.workflow.some((step) => /Watch the buying signals: hiring \(job postings\) with/.test(step))).toBe(true);
  });

  it('never exceeds the budget, whatever the budget and the targeting', () => {
    const targetings = [salesLeaders, marketers(['Germany']), targeting({ buyingSignals: [{ type: 'website visits', priority: 'HIGH' }], jobTitles: ['CTO'] }), targeting({})];
    for (const each of targetings) {
      const model = planModel(attributeNeeds(each), defaultPlannerSettings);
      const pool = candidatesFor(catalog, model, europeanGeographies(each.geographies).length > 0);
      for (const budget of [0, 0.001, 0.01, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 5]) {
        const plan = planEnrichment(each, catalog, { budgetUsdPerRecord: budget });
        const sequence = plan.recommendations.map((recommendation) => pool.find((candidate) => candidate.source.slug === recommendation.slug)!);
        expect(measurePlan(sequence, { ...model, settings: { ...model.settings, budgetUsdPerRecord: budget } }).costUsd).toBeLessThanOrEqual(budget + 1e-9);
        expect(plan.estimatedCostPerRecordUsd).toBeLessThanOrEqual(budget);
      }
    }
  });

  it('leaves attributes uncovered under a tight budget and says that the budget ran out', () => {
    const wanted = targeting({ industries: ['SaaS'], jobTitles: ['VP Sales'], seniority: ['VP'], buyingSignals: [{ type: 'website visits', priority: 'HIGH' }] });
    const tight = planEnrichment(wanted, catalog, { budgetUsdPerRecord: 0.03 });
    expect(tight.estimatedCostPerRecordUsd).toBeLessThanOrEqual(0.03);
    expect(tight.uncoveredAttributes).toEqual(expect.arrayContaining(['person.phone', 'signals.intent']));
    for (const attribute of tight.uncoveredAttributes) {
      expect(tight.workflow.some((step) => step.includes(`Not covered:`) && step.includes(`(${attribute}), the budget ran out: the cheapest source for it`))).toBe(true);
      expect(tight.attributes.find((planned) => planned.attribute === attribute)).toMatchObject({ expectedCoverage: 0, sources: [] });
    }
    // The same targeting with room to spend covers them: the budget was the reason.
    const generous = planEnrichment(wanted, catalog, { budgetUsdPerRecord: 1 });
    expect(generous.uncoveredAttributes).toEqual([]);
  });

  it('with no budget recommends nothing and explains every gap', () => {
    const plan = planEnrichment(targeting({ jobTitles: ['CTO'] }), catalog, { budgetUsdPerRecord: 0 });
    expect(plan.recommendations).toEqual([]);
    expect(plan.estimatedCostPerRecordUsd).toBe(0);
    expect(plan.uncoveredAttributes).toEqual(['company.domain', 'person.title', 'person.linkedinUrl', 'person.email', 'person.emailVerified', 'person.phone']);
    expect(plan.workflow).toContain('5. Not covered: email verification (person.emailVerified), it needs the work email first, and that is not covered either.');
    expect(plan.workflow[0]).toMatch(/^1\. Not covered: company domain \(company\.domain\), the budget ran out: the cheapest source for it, Serper/);
  });

  it('chooses the cheapest waterfall among all that cover as much, and not the premium source', () => {
    const wanted = targeting({ jobTitles: ['Growth Marketer'] });
    const sources = [
      source('identity', { 'company.domain': 0.95, 'person.title': 0.9, 'person.linkedinUrl': 0.9 }, { costPerRecordUsd: 0.01, quality: 0.95 }),
      // Together the two cheap finders reach the target coverage (0.9), so the premium one would add nothing.
      source('finder-cheap', { 'person.email': 0.85, 'person.emailVerified': 0.85 }, { costPerRecordUsd: 0.01, chargedOnlyWhenFound: true, quality: 0.95 }),
      source('finder-second', { 'person.email': 0.8, 'person.emailVerified': 0.8 }, { costPerRecordUsd: 0.02, chargedOnlyWhenFound: true, quality: 0.95 }),
      source('finder-premium', { 'person.email': 0.9, 'person.emailVerified': 0.9 }, { costPerRecordUsd: 0.4, quality: 0.95 }),
      source('verifier', { 'person.emailVerified': 0.9 }, { costPerRecordUsd: 0.005, quality: 0.95 }),
    ];
    const plan = planEnrichment(wanted, sources, { budgetUsdPerRecord: 1 });
    const chosen = plan.recommendations.map((recommendation) => recommendation.slug);
    expect(chosen.toSorted()).toEqual(['finder-cheap', 'finder-second', 'identity']);
    expect(plan.workflow).toContain('3. Find the work email with the waterfall finder-cheap → finder-second.');
    expect(plan.recommendations.find((recommendation) => recommendation.slug === 'finder-second')?.rationale).toMatch(/^Runs only on the \d+% of records still missing work email and email verification after finder-cheap\./);

    // Exhaustive check: no order of any subset covers at least as much for less.
    const model = planModel(attributeNeeds(wanted), { ...defaultPlannerSettings, budgetUsdPerRecord: 1 });
    const pool = candidatesFor(sources, model, false);
    const planned = measurePlan(chosen.map((slug) => pool.find((candidate) => candidate.source.slug === slug)!), model);
    const sequences = (rest: Candidate[]): Candidate[][] => [[], ...rest.flatMap((first) => sequences(rest.filter((other) => other !== first)).map((tail) => [first, ...tail]))];
    let compared = 0;
    for (const sequence of sequences(pool)) {
      const measure = measurePlan(sequence, model);
      if (measure.value < planned.value - 1e-9) continue;
      compared += 1;
      expect(measure.costUsd).toBeGreaterThanOrEqual(planned.costUsd - 1e-9);
    }
    expect(compared).toBeGreaterThan(1);
  });

  it('prefers a GDPR-friendly source for European targets where the figures are equal', () => {
    const twins = [
      source('identity', { 'company.domain': 0.95, 'company.location': 0.95, 'person.title': 0.9, 'person.linkedinUrl': 0.9 }, { costPerRecordUsd: 0.01 }),
      source('alpha-finder', { 'person.email': 0.7, 'person.emailVerified': 0.7 }, { costPerRecordUsd: 0.02, chargedOnlyWhenFound: true }),
      source('beta-finder', { 'person.email': 0.7, 'person.emailVerified': 0.7 }, { costPerRecordUsd: 0.02, chargedOnlyWhenFound: true, gdprFriendly: true }),
    ];
    const emailSources = (geographies: string[]) =>
      planEnrichment(marketers(geographies), twins).recommendations.filter((recommendation) => recommendation.attributesCovered.includes('person.email'));
    // Equal figures: the slug breaks the tie in the United States, GDPR decides in Germany.
    expect(emailSources(['United States'])[0]?.slug).toBe('alpha-finder');
    const european = emailSources(['Germany']);
    expect(european[0]?.slug).toBe('beta-finder');
    expect(european[0]?.rationale).toMatch(/GDPR-friendly, so preferred for personal data in Germany\./);
  });

  it('leans on GDPR-friendly finders on the seeded catalog for a European campaign', () => {
    const european = recommendationsFor(['Germany', 'France']).filter((recommendation) => recommendation.attributesCovered.includes('person.email'));
    expect(european[0]?.dataSource.gdprFriendly).toBe(true);
    const gdprShare = (recommendations: typeof european) => recommendations.filter((recommendation) => recommendation.dataSource.gdprFriendly).length / recommendations.length;
    const american = recommendationsFor(['United States']).filter((recommendation) => recommendation.attributesCovered.includes('person.email'));
    expect(gdprShare(european)).toBeGreaterThan(gdprShare(american));
  });

  it('ranks a source known only by its category below a researched one with the same figures', () => {
    const sources = [
      source('a-listed', { 'company.domain': 0.8, 'company.industry': 0.8 }, { estimateBasis: DataSourceEstimateBasis.CATEGORY_DEFAULTS }),
      source('b-researched', { 'company.domain': 0.8, 'company.industry': 0.8 }),
    ];
    const plan = planEnrichment(targeting({ industries: ['Retail'] }), sources);
    expect(plan.recommendations[0]?.slug).toBe('b-researched');
    const listed = plan.recommendations.find((recommendation) => recommendation.slug === 'a-listed');
    if (listed) expect(listed.rationale).toMatch(/category’s defaults in the GTM tools list, not researched/);
  });

  it('leaves out sources without an API (unless asked) and sources that shut down, and says so', () => {
    const sources = [
      source('identity', { 'company.domain': 0.95 }),
      source('manual-research', { 'signals.jobChange': 0.8 }, { name: 'Manual Research', apiAvailable: false }),
      source('gone-data', { 'signals.jobChange': 0.9 }, { name: 'Gone Data', available: false }),
    ];
    const wanted = targeting({ buyingSignals: [{ type: 'New VP of Sales', priority: 'HIGH' }] });
    const unattended = planEnrichment(wanted, sources);
    expect(unattended.uncoveredAttributes).toEqual(['signals.jobChange']);
    expect(unattended.workflow).toContain('2. Not covered: job changes (signals.jobChange), only sources without an API cover it (Manual Research): research it by hand.');
    const withManual = planEnrichment(wanted, sources, { includeSourcesWithoutApi: true });
    expect(withManual.recommendations.map((recommendation) => recommendation.slug)).toEqual(['identity', 'manual-research']);
    const onlyGone = planEnrichment(wanted, sources.filter((each) => each.slug !== 'manual-research'));
    expect(onlyGone.workflow).toContain('2. Not covered: job changes (signals.jobChange), only Gone Data covered it, and it is no longer available.');
  });

  it('is deterministic: same input, same plan, whatever the catalog’s order', () => {
    const first = planEnrichment(salesLeaders, catalog);
    expect(planEnrichment(salesLeaders, catalog)).toEqual(first);
    expect(planEnrichment(salesLeaders, catalog.toReversed())).toEqual(first);
    const shuffled = catalog.toSorted((left, right) => (left.name.length % 7) - (right.name.length % 7) || (left.website ?? '').localeCompare(right.website ?? ''));
    expect(planEnrichment(salesLeaders, shuffled)).toEqual(first);
  });
});
