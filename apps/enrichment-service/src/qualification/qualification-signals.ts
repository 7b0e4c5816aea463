import type { CampaignTargeting } from '../campaign-context/campaign-targeting.js';
import type { EnrichedContact } from '../enrichment-record/enrichment-results.js';
import { stateName } from '../website-discovery/company-match.js';

/** What qualification weighs: the row, what enrichment found, and the campaign when there is one. */
export interface QualificationEvidence {
  company: { name: string; city: string | null; region: string | null; country: string | null; postalCode: string | null };
  /** Every column of the row as given (a licence type or industry column tells what the company is). */
  input: Record<string, unknown>;
  website: { url: string; confidence: number } | null;
  /** The site's title, summary and passages, as one text. */
  siteText: string;
  siteQuality: string | null;
  contacts: EnrichedContact[];
  companyEmails: string[];
  companyPhones: string[];
  campaign: CampaignTargeting | null;
}

export interface ScoredSignals {
  score: number;
  signals: string[];
  /** Which part of the targeting the company fits and which it does not, for the reasoning. */
  fits: string[];
  misses: string[];
  basis: 'CAMPAIGN' | 'DATA';
}

const stop = new Set(['and', 'or', 'the', 'of', 'for', 'with', 'in', 'to', 'a', 'an', 'on', 'at', 'by', 'small', 'medium', 'mid', 'sized', 'size', 'based', 'companies', 'company', 'businesses', 'business', 'firms', 'teams', 'industry', 'industries', 'services', 'service', 'providers', 'provider']);

/** A crude English stem: plurals and the usual suffixes off, so "dealerships" meets "dealer". */
function stem(word: string): string {
  return word
    .replace(/(ships|ship)$/, '')
    .replace(/(ies)$/, 'y')
    .replace(/(ers|er)$/, 'er')
    .replace(/(ing|ive|s)$/, '')
    .replace(/e$/, '');
}

const wordsOf = (text: string) => text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, ' ').split(' ').filter((word) => word.length > 1);

/** Whether most of a phrase's content words appear (stemmed) in the text. */
function phraseFound(phrase: string, textStems: Set<string>): boolean {
  const words = wordsOf(phrase).filter((word) => !stop.has(word));
  if (words.length === 0) return false;
  const found = words.filter((word) => textStems.has(stem(word))).length;
  return found / words.length >= 0.5;
}

const seniorTitle = (contact: EnrichedContact) => contact.seniority === 'OWNER' || contact.seniority === 'C_LEVEL';

function geographyMatches(geography: string, company: QualificationEvidence['company']): boolean {
  const wanted = geography.toLowerCase();
  if (/\b(global|worldwide|any|international)\b/.test(wanted)) return true;
  const country = (company.country ?? 'us').toLowerCase();
  const inUs = ['us', 'usa', 'united states', 'united states of america'].includes(country);
  if (inUs && /\b(us|usa|united states|north america|america)\b/.test(wanted)) return true;
  const place = [company.city, company.region, company.region ? stateName(company.region) : null, company.country].filter(Boolean).map((part) => part!.toLowerCase());
  return place.some((part) => part.length > 1 && new RegExp(`\\b${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(wanted));
}

/**
 * Deterministic signals and a 0–100 score. Against a campaign: industry (30, or 15 for keywords only), place
 * (20), a person of the persona's titles or seniority (20), a way to reach them (10), a confirmed
 * website with content (20), a disqualifier −30. Without one, against the data itself: a confirmed
 * website (25), its content (20), a decision maker (25), reachability (15), a complete row (15).
 */
export function scoreSignals(evidence: QualificationEvidence): ScoredSignals {
  const signals: string[] = [];
  const fits: string[] = [];
  const misses: string[] = [];
  const rowText = Object.values(evidence.input).filter((value) => typeof value === 'string').join(' ');
  const text = `${evidence.company.name} ${rowText} ${evidence.siteText}`;
  const textStems = new Set(wordsOf(text).map(stem));
  const decisionMaker = evidence.contacts.find(seniorTitle);
  const reachable = evidence.contacts.some((contact) => contact.email) || evidence.companyEmails.length > 0;
  const phoneOnly = !reachable && (evidence.contacts.some((contact) => contact.phone) || evidence.companyPhones.length > 0);
  const contentful = evidence.siteQuality === 'SUFFICIENT' || evidence.siteQuality === 'PARTIAL';
  let score = 0;

  if (evidence.website) {
    signals.push(`Website ${new URL(evidence.website.url).hostname} (confidence ${evidence.website.confidence.toFixed(2)})`);
  } else signals.push('No website found');
  if (decisionMaker) signals.push(`Decision maker: ${decisionMaker.name}${decisionMaker.title ? `, ${decisionMaker.title}` : ''}`);
  if (reachable) signals.push('Email address found');
  else if (phoneOnly) signals.push('Phone number only');

  const target = evidence.campaign?.targetCompany;
  const persona = evidence.campaign?.targetPersona;
  if (target || persona) {
    if (target) {
      const industries = target.industries.filter((industry) => phraseFound(industry, textStems));
      const keywords = target.keywords.filter((keyword) => phraseFound(keyword, textStems));
      if (industries.length > 0) {
        score += 30;
        fits.push(`industry (${industries.join(', ')})`);
        signals.push(`Industry fits: ${industries.join(', ')}`);
      } else if (keywords.length > 0) {
        score += 15;
        fits.push(`keywords (${keywords.slice(0, 3).join(', ')})`);
        signals.push(`Keywords found: ${keywords.slice(0, 3).join(', ')}`);
      } else {
        misses.push(`industry (wanted ${target.industries.slice(0, 3).join(', ') || 'the target'})`);
        signals.push('Industry does not match the target');
      }
      if (target.geographies.length === 0) score += 10;
      else if (target.geographies.some((geography) => geographyMatches(geography, evidence.company))) {
        score += 20;
        fits.push('geography');
        signals.push(`In a target geography (${[evidence.company.city, evidence.company.region].filter(Boolean).join(', ')})`);
      } else {
        misses.push(`geography (wanted ${target.geographies.slice(0, 3).join(', ')})`);
        signals.push('Outside the target geographies');
      }
      const disqualifier = target.disqualifiers.find((phrase) => phraseFound(phrase, textStems) && wordsOf(phrase).filter((word) => !stop.has(word)).length >= 2);
      if (disqualifier) {
        score -= 30;
        misses.push(`disqualifier (${disqualifier})`);
        signals.push(`Disqualifier: ${disqualifier}`);
      }
    } else score += 25;
    const titles = persona?.jobTitles ?? [];
    const personaMatch = evidence.contacts.find((contact) => contact.title && titles.some((title) => phraseFound(title, new Set(wordsOf(contact.title!).map(stem)))));
    const senioritySought = (persona?.seniority ?? []).some((level) => level === 'OWNER' || level === 'C_LEVEL');
    if (personaMatch) {
      score += 20;
      fits.push('persona');
      signals.push(`Persona match: ${personaMatch.name}, ${personaMatch.title}`);
    } else if (decisionMaker && (senioritySought || titles.length === 0)) {
      score += 15;
      fits.push('seniority');
    } else if (evidence.contacts.length > 0) score += 8;
    else misses.push('a named person to write to');
    score += reachable ? 10 : phoneOnly ? 5 : 0;
    score += evidence.website ? Math.round(10 * evidence.website.confidence) + (contentful ? 10 : 4) : 0;
    return { score: Math.max(0, Math.min(100, score)), signals, fits, misses, basis: 'CAMPAIGN' };
  }

  score += evidence.website ? Math.round(25 * evidence.website.confidence) : 0;
  score += contentful ? 20 : evidence.siteText.length > 200 ? 10 : 0;
  score += decisionMaker ? 25 : evidence.contacts.length > 0 ? 12 : 0;
  score += reachable ? 15 : phoneOnly ? 8 : 0;
  const complete = [evidence.company.city, evidence.company.region, evidence.company.postalCode].filter(Boolean).length;
  score += 5 + complete * (10 / 3);
  if (evidence.website) fits.push('a confirmed website');
  if (decisionMaker) fits.push('a decision maker');
  if (!evidence.website) misses.push('a website');
  if (!decisionMaker) misses.push('a decision maker');
  return { score: Math.max(0, Math.min(100, Math.round(score))), signals, fits, misses, basis: 'DATA' };
}
