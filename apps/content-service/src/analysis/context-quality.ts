import type { QualityLevel } from '../website/website.entity.js';
import type { SiteFacts } from '../extraction/site-facts.js';

export interface ContextQuality {
  level: QualityLevel;
  score: number;
  gaps: string[];
}

type FactName = keyof SiteFacts;

/**
 * What a campaign needs from a website and how much each weighs. `enough` pieces of evidence count
 * as full coverage: one clear statement of what the product is suffices, three features do.
 */
const factNeeds: Record<FactName, { weight: number; enough: number; gap: string }> = {
  whatItIs: { weight: 0.25, enough: 2, gap: 'what it is: no clear statement of what the company sells or does' },
  forWhom: { weight: 0.2, enough: 2, gap: 'for whom: no statement of who the product is for (industries, roles, company size)' },
  features: { weight: 0.2, enough: 4, gap: 'features: few or no product capabilities described' },
  proof: { weight: 0.15, enough: 2, gap: 'proof: no customers, testimonials, case studies or results' },
  pricing: { weight: 0.1, enough: 1, gap: 'pricing: no prices or plans published' },
};

/** The rest of the score is volume: this many words of own content count as enough to work with. */
const volumeWeight = 0.1;
const enoughWords = 1_500;

/** API.md's levels: SUFFICIENT above 0.8, PARTIAL 0.6–0.8, INSUFFICIENT 0.4–0.6, MISSING below 0.4. */
export function qualityLevelOf(score: number): QualityLevel {
  if (score > 0.8) return 'SUFFICIENT';
  if (score >= 0.6) return 'PARTIAL';
  if (score >= 0.4) return 'INSUFFICIENT';
  return 'MISSING';
}

/**
 * Scores a website 0..1 by how well it covers the facts a campaign is built from, plus a little for
 * volume, and names each gap so a user knows what to add (or to give as their own context).
 */
export function assessContextQuality(facts: SiteFacts, totalWords: number): ContextQuality {
  let score = 0;
  const gaps: string[] = [];
  for (const [name, need] of Object.entries(factNeeds) as Array<[FactName, (typeof factNeeds)[FactName]]>) {
    const coverage = Math.min(1, facts[name].length / need.enough);
    score += need.weight * coverage;
    if (coverage === 0) gaps.push(need.gap);
    else if (coverage < 1) gaps.push(`${need.gap.split(':')[0]}: thin (${facts[name].length} of the ${need.enough} statements wanted)`);
  }
  const volume = Math.min(1, totalWords / enoughWords);
  score += volumeWeight * volume;
  if (volume < 0.5) gaps.push(`volume: only ${totalWords} words of content were found on the pages read`);
  const rounded = Math.round(score * 1000) / 1000;
  return { level: qualityLevelOf(rounded), score: rounded, gaps };
}
