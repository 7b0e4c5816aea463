import { sortAttributes, type EnrichmentAttribute } from '../data-source/data-source.vocabulary.js';
import type { CampaignTargeting } from './enrichment-plan.targeting.js';

/** An attribute the targeting calls for, how much it matters (0..1) and why. */
export interface AttributeNeed {
  attribute: EnrichmentAttribute;
  importance: number;
  reasons: string[];
}

/**
 * How much each kind of attribute matters to an outbound campaign, 0..1. The domain and the work
 * email carry a campaign (no domain, no lookups; no email, no sequence); firmographics only check
 * a filter; a phone number is a bonus for senior buyers.
 */
export const attributeImportance = {
  identity: 1,
  email: 1,
  emailVerified: 0.9,
  title: 0.8,
  industry: 0.7,
  employeeCount: 0.7,
  location: 0.6,
  linkedinUrl: 0.6,
  seniority: 0.5,
  revenue: 0.5,
  funding: 0.5,
  phone: 0.5,
  department: 0.4,
  description: 0.4,
} as const;

/** Importance of a signal attribute by the signal's priority; an unknown priority is medium. */
export function signalImportance(priority: string | null): number {
  if (priority && /high|critical|urgent/i.test(priority)) return 0.8;
  if (priority && /low/i.test(priority)) return 0.4;
  return 0.6;
}

/**
 * Which attribute reveals a buying signal, by words in its type; first match wins. A type that
 * matches nothing is watched through company news, the generic way to catch an event, and the
 * reason says so.
 */
export const signalRules: { pattern: RegExp; attribute: EnrichmentAttribute }[] = [
  { pattern: /leader|executive|job change|promot|appoint|new (vp|cto|ceo|cfo|cmo|cro|coo|head|director|chief)|champion/, attribute: 'signals.jobChange' },
  { pattern: /hiring|hire|recruit|job (post|opening|listing)|headcount|talent/, attribute: 'signals.hiring' },
  { pattern: /fund|rais|invest|series [a-e]|ipo|capital|round/, attribute: 'company.funding' },
  { pattern: /intent|research|review|compar|evaluat|search|topic|surge|website visit|site visit|visitor|pricing page/, attribute: 'signals.intent' },
  { pattern: /tech|stack|software|tool|migrat|adopt|install|platform|vendor/, attribute: 'company.technologies' },
  { pattern: /traffic/, attribute: 'signals.webTraffic' },
  { pattern: /social|engag|linkedin|comment|follow|webinar/, attribute: 'signals.socialEngagement' },
  { pattern: /news|press|announce|expan|acqui|merger|partner|launch|office|award|regulat|complian|growth/, attribute: 'signals.news' },
];

/** The attribute that reveals a signal of this type, and whether it was a guess. */
export function attributeForSignal(type: string): { attribute: EnrichmentAttribute; matched: boolean } {
  const words = type.toLowerCase().replace(/[_-]+/g, ' ');
  const rule = signalRules.find((candidate) => candidate.pattern.test(words));
  return rule ? { attribute: rule.attribute, matched: true } : { attribute: 'signals.news', matched: false };
}

/** Levels and titles senior enough to be worth a phone call past the gatekeeper (an account executive is not). */
const seniorPattern = /\b(c[- ]?level|c[- ]?suite|chief|ceo|cfo|cto|coo|cmo|cro|cio|ciso|president|founder|co-?founder|owner|partner|vp|svp|evp|vice president|head|director|(?<!account )executive)\b/i;

/** The persona's senior levels or titles, empty when none is senior. */
export function seniorMarkers(targeting: Pick<CampaignTargeting, 'seniority' | 'jobTitles'>): string[] {
  return [...targeting.seniority, ...targeting.jobTitles].filter((value) => seniorPattern.test(value));
}

/** EU and EEA countries, the United Kingdom and Switzerland (GDPR, UK GDPR, revDSG) and the regions that contain them. */
const europeanPlaces = [
  'europe', 'european union', 'eu', 'eea', 'emea', 'dach', 'nordics', 'nordic', 'benelux', 'scandinavia', 'baltics', 'iberia',
  'austria', 'belgium', 'bulgaria', 'croatia', 'cyprus', 'czechia', 'czech republic', 'denmark', 'estonia', 'finland', 'france',
  'germany', 'greece', 'hungary', 'ireland', 'italy', 'latvia', 'lithuania', 'luxembourg', 'malta', 'netherlands', 'holland',
  'poland', 'portugal', 'romania', 'slovakia', 'slovenia', 'spain', 'sweden', 'iceland', 'liechtenstein', 'norway',
  'united kingdom', 'uk', 'great britain', 'britain', 'england', 'scotland', 'wales', 'northern ireland', 'switzerland',
];
const europeanPattern = new RegExp(`\\b(${europeanPlaces.join('|')})\\b`, 'i');

/** The geographies in which personal data falls under GDPR or an equivalent law. */
export function europeanGeographies(geographies: readonly string[]): string[] {
  return geographies.filter((geography) => europeanPattern.test(geography));
}

function listed(values: readonly string[], most = 3): string {
  return values.length <= most ? values.join(', ') : `${values.slice(0, most).join(', ')} and ${values.length - most} more`;
}

/**
 * The attributes a campaign's targeting calls for: the company's identity; each firmographic the
 * targeting filters on; when a persona is given, the people attributes (title, LinkedIn, work email
 * and its verification; seniority and department when they filter; a phone when the persona is
 * senior); and the attribute each buying signal is detected by. Sorted in vocabulary order.
 */
export function attributeNeeds(targeting: CampaignTargeting): AttributeNeed[] {
  const needs = new Map<EnrichmentAttribute, AttributeNeed>();
  const need = (attribute: EnrichmentAttribute, importance: number, reason: string) => {
    const existing = needs.get(attribute);
    if (!existing) return void needs.set(attribute, { attribute, importance, reasons: [reason] });
    existing.importance = Math.max(existing.importance, importance);
    if (!existing.reasons.includes(reason)) existing.reasons.push(reason);
  };

  need('company.domain', attributeImportance.identity, 'the key every other lookup starts from');
  if (targeting.industries.length > 0) need('company.industry', attributeImportance.industry, `to check the industries (${listed(targeting.industries)})`);
  if (targeting.employeeRange) need('company.employeeCount', attributeImportance.employeeCount, `to check the employee range (${targeting.employeeRange})`);
  if (targeting.revenueRange) need('company.revenue', attributeImportance.revenue, `to check the revenue range (${targeting.revenueRange})`);
  if (targeting.geographies.length > 0) need('company.location', attributeImportance.location, `to check the geographies (${listed(targeting.geographies)})`);
  if (targeting.fundingStage) need('company.funding', attributeImportance.funding, `to check the funding stage (${targeting.fundingStage})`);
  if (targeting.businessModel) need('company.description', attributeImportance.description, `to check the business model (${targeting.businessModel})`);
  if (targeting.keywords.length > 0) need('company.description', attributeImportance.description, `to match the keywords (${listed(targeting.keywords)})`);

  const hasPersona = targeting.jobTitles.length > 0 || targeting.departments.length > 0 || targeting.seniority.length > 0;
  if (hasPersona) {
    need('person.title', attributeImportance.title, targeting.jobTitles.length > 0 ? `to find people with the persona’s titles (${listed(targeting.jobTitles)})` : 'to find the persona’s people');
    need('person.linkedinUrl', attributeImportance.linkedinUrl, 'to tell people apart and reach them on LinkedIn');
    need('person.email', attributeImportance.email, 'to reach the persona by email');
    need('person.emailVerified', attributeImportance.emailVerified, 'to keep bounces low and the sending domain healthy');
    if (targeting.seniority.length > 0) need('person.seniority', attributeImportance.seniority, `to check seniority (${listed(targeting.seniority)})`);
    if (targeting.departments.length > 0) need('person.department', attributeImportance.department, `to check departments (${listed(targeting.departments)})`);
    const senior = seniorMarkers(targeting);
    if (senior.length > 0) need('person.phone', attributeImportance.phone, `the persona is senior (${listed(senior, 2)}): a direct line gets past the gatekeeper`);
  }

  for (const signal of targeting.buyingSignals) {
    const { attribute, matched } = attributeForSignal(signal.type);
    const priority = signal.priority ? `, ${signal.priority.toLowerCase()} priority` : '';
    const guess = matched ? '' : '; not a standard signal type, so watched through company news';
    need(attribute, signalImportance(signal.priority), `to detect the buying signal “${signal.type}”${priority}${guess}`);
  }

  return sortAttributes(needs.keys()).map((attribute) => needs.get(attribute)!);
}
