import type { AssetContext } from './asset-context.js';
import { AssetKind } from './asset-kind.js';
import { notStated, positioningSchema, type Positioning } from './asset-schemas.js';
import { defineAssetTask, prerequisiteOf } from './asset-task.js';
import { Citations, contentWordsOf, cueScore, fragmentsOf, rankFragments, shorten, stemOf, type Cue, type Fragment } from './passage-extraction.js';
import { buildProductOverviewOffline } from './product-overview.task.js';
import { buildTargetPersonaOffline } from './target-persona.task.js';
import { attributionOf, isCallToAction, painScore, proofCue, wordCount } from './website-cues.js';

// A positioning rests on what the usual way gets wrong: "Traditional QA methods are …", "The
// cloud should be easy—but …", "Outreach scaled with AI but personalized by experts".
const insightCues: readonly Cue[] = [
  [/\b(traditional|should be|instead of|no longer|isn['’]t an option|the old way|used to)\b/i, 3],
  [/\bbut\b/i, 3],
];

// Phrases that name what buyers do instead, matched in the website's own words.
const alternativePatterns: readonly RegExp[] = [
  /\btraditional\s+(?:[\p{L}-]+\s+){0,2}?(?:methods|tools|solutions|agencies|approach(?:es)?|software|vendors|platforms|teams)\b/giu,
  /\bother (?:established |legacy |existing )?(?:solutions|tools|vendors|platforms|products)\b/gi,
  /\bhiring (?:a |an )?(?:[\p{L}-]+ ){0,2}?(?:team|SDRs?|BDRs?|reps?|engineers?|agency)\b/giu,
  /\b(?:a|an|in-house|internal) (?:platform|sales|devops|QA|support|SDR) team\b/gi,
  /\bpublic clouds?\b/gi,
  /\b(?:spreadsheets|in-house tools?|agencies|freelancers|consultants)\b/gi,
];

/** A short name for a value: the words before its first linking word ("Outreach scaled" of "Outreach scaled with AI …"). */
function themeOf(text: string): string {
  const words = text.replace(/[.!?]+$/, '').split(/\s+/);
  const stop = words.findIndex((word, index) => index >= 2 && /^(but|using|with|by|for|to|so|that|and|in|across|on|from|of|based)$/i.test(word));
  return shorten(words.slice(0, stop > 0 ? Math.min(stop, 8) : 6).join(' ').replace(/[,;:]+$/, ''), 120);
}

const stems = (text: string) => [...new Set(contentWordsOf(text).map(stemOf))];

/**
 * The positioning from the passages and the earlier assets: the website's own contrast with the
 * status quo as the insight, its features and strengths as value propositions, each backed by the
 * result or customer quote that shares most words with it (or "Not stated on the website.").
 */
export function buildPositioningOffline(context: AssetContext): Positioning {
  const overview = prerequisiteOf(context, AssetKind.PRODUCT_OVERVIEW, buildProductOverviewOffline);
  const persona = prerequisiteOf(context, AssetKind.TARGET_PERSONA, buildTargetPersonaOffline);
  const fragments = fragmentsOf(context.passages, { companyName: overview.companyName });
  const inherited = [...overview.sources, ...persona.sources];
  const citations = new Citations();
  const usable = fragments.filter((fragment) => !isCallToAction(fragment) && attributionOf(fragment) === undefined && wordCount(fragment) >= 4);

  const [insight] = rankFragments(
    usable.filter((fragment) => !fragment.customerVoice),
    (fragment) => cueScore(fragment.text, insightCues) + Math.min(painScore(fragment), 3),
    { limit: 1, minimumScore: 3 },
  );
  const uniqueInsight = insight
    ? citations.cite(insight)
    : citations.carry(overview.differentiators[0] ?? overview.painPoints[0] ?? overview.description, fragments, inherited);

  const claims = [...new Set([...overview.keyFeatures, ...overview.differentiators])].filter((claim) => claim !== uniqueInsight);

  // Evidence: a number or a customer speaking, matched to the value it backs by shared words. The
  // company's own claims are not evidence of one another.
  const ownClaims = new Set([...claims, overview.description, uniqueInsight]);
  const proofs = usable.filter(
    (fragment) => (fragment.customerVoice || (fragment.shape === 'sentence' && proofCue.test(fragment.text))) && ![...ownClaims].some((claim) => claim.includes(fragment.text)),
  );
  const usedProofs = new Set<Fragment>();
  const evidenceFor = (claim: string) => {
    const claimStems = new Set(stems(claim));
    const [best] = rankFragments(
      proofs,
      (proof) => stems(proof.text).filter((stem) => claimStems.has(stem)).length * 3 + (proofCue.test(proof.text) ? 2 : 0) + (proof.customerVoice ? 1 : 0),
      // One shared word and a number, or two shared words: a lone shared word is a coincidence.
      { limit: 1, minimumScore: 5, exclude: usedProofs },
    );
    if (!best) return notStated;
    usedProofs.add(best);
    return citations.cite(best);
  };
  const valuePropositions = claims
    .slice(0, 6)
    .map((claim) => ({ theme: themeOf(claim), description: citations.carry(claim, fragments, inherited), evidence: evidenceFor(claim) }))
    // Backed values lead; the order among each group stays the website's.
    .toSorted((left, right) => Number(right.evidence !== notStated) - Number(left.evidence !== notStated))
    .slice(0, 4);

  const differentiators = overview.differentiators.map((differentiator) => citations.carry(differentiator, fragments, inherited));

  const competitiveAlternatives: string[] = [];
  for (const pattern of alternativePatterns) {
    for (const fragment of fragments) {
      for (const match of fragment.text.matchAll(pattern)) {
        const found = match[0].toLowerCase();
        // "a sales team" inside "hiring a sales team" is the same alternative.
        if (competitiveAlternatives.length >= 6 || competitiveAlternatives.some((existing) => existing.toLowerCase().includes(found) || found.includes(existing.toLowerCase()))) continue;
        competitiveAlternatives.push(match[0]);
        citations.cite(fragment);
      }
    }
  }

  return { uniqueInsight: shorten(uniqueInsight, 600), valuePropositions, differentiators, competitiveAlternatives, sources: citations.list() };
}

export const positioningTask = defineAssetTask<Positioning>({
  kind: AssetKind.POSITIONING,
  name: 'campaign.positioning',
  version: '1',
  schema: positioningSchema,
  subject: 'positioning (how to present the product to the target persona)',
  guidance: [
    'uniqueInsight: what the usual way gets wrong, as the website argues it, in one or two sentences.',
    'valuePropositions: the values that matter to the persona, strongest first, each with the evidence (a number, a result, a customer quote) that backs it.',
    'differentiators: what sets the product apart; competitiveAlternatives: what buyers do instead (competitors, in-house work, hiring, the status quo).',
  ],
  offline: buildPositioningOffline,
});
