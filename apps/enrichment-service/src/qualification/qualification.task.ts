import type { LlmTask } from '@gtm/llm';
import { z } from 'zod';
import { tierOf } from '../enrichment-record/enrichment-results.js';
import { scoreSignals, type QualificationEvidence } from './qualification-signals.js';

export const qualificationSchema = z.object({
  score: z.number().int().min(0).max(100).describe('How well the company fits, 0 to 100.'),
  reasoning: z.string().trim().min(20).max(800).describe('Two or three sentences a seller can check: what fits and what does not.'),
  confidence: z.number().min(0).max(1).describe('How sure the score is, given how much was known.'),
  signals: z.array(z.string().trim().min(3).max(160)).max(10).describe('The facts the score rests on.'),
});

export type QualificationOutput = z.infer<typeof qualificationSchema>;

/**
 * The offline qualification: the deterministic score of `scoreSignals`, its reasoning spelled out
 * from the fits and misses, and a low confidence. Marked `offline` by the caller.
 */
export function offlineQualification(evidence: QualificationEvidence): QualificationOutput {
  const scored = scoreSignals(evidence);
  const against = scored.basis === 'CAMPAIGN' ? `the campaign "${evidence.campaign!.name}"` : 'what the list and the website show';
  const fit = scored.fits.length > 0 ? `Fits on ${scored.fits.join(', ')}` : 'Fits on nothing checked';
  const miss = scored.misses.length > 0 ? `; misses ${scored.misses.join(', ')}` : '';
  return {
    score: scored.score,
    reasoning: `Tier ${tierOf(scored.score)} (${scored.score}/100) against ${against}. ${fit}${miss}.`,
    confidence: evidence.website ? 0.3 : 0.2,
    signals: scored.signals,
  };
}

export const qualificationTask: LlmTask<QualificationOutput, QualificationEvidence> = {
  name: 'enrichment-qualification',
  version: '1',
  schema: qualificationSchema,
  system:
    'You qualify one company as a sales prospect. Score 0–100 how well it fits the target (or, without one, how promising and reachable it is), ' +
    'using only the facts given. Tier follows from the score (A ≥ 75, B ≥ 55, C ≥ 35, D below). Say what fits and what does not; never invent facts.',
  offline: offlineQualification,
};

/** The prompt: the target, the company, and the signals measured deterministically. */
export function qualificationPrompt(evidence: QualificationEvidence): string {
  const scored = scoreSignals(evidence);
  const campaign = evidence.campaign;
  const target = campaign?.targetCompany
    ? `Target companies: ${campaign.targetCompany.name}. Industries: ${campaign.targetCompany.industries.join(', ') || 'any'}. Geographies: ${campaign.targetCompany.geographies.join(', ') || 'any'}. Size: ${campaign.targetCompany.employeeRange ?? 'any'}. Disqualifiers: ${campaign.targetCompany.disqualifiers.join('; ') || 'none'}.`
    : 'No campaign targeting: judge how promising and reachable the company is from the data.';
  const persona = campaign?.targetPersona ? `Buyer: ${campaign.targetPersona.name} (${campaign.targetPersona.jobTitles.join(', ')}).` : '';
  const row = Object.entries(evidence.input)
    .filter(([, value]) => typeof value === 'string' && value.trim())
    .slice(0, 30)
    .map(([column, value]) => `${column}: ${String(value).slice(0, 120)}`)
    .join('\n');
  return [
    target,
    persona,
    `Company: ${evidence.company.name}, ${[evidence.company.city, evidence.company.region].filter(Boolean).join(', ')}`,
    `The row:\n${row}`,
    `Contacts: ${evidence.contacts.map((contact) => `${contact.name} (${contact.title ?? 'no title'})`).join('; ') || 'none found'}`,
    `Website text:\n${evidence.siteText.slice(0, 3_000) || '(no website)'}`,
    `Signals measured: ${scored.signals.join('; ')}. A rule-based score would be ${scored.score}.`,
  ]
    .filter(Boolean)
    .join('\n\n');
}
