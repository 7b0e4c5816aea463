import type { AssetContext } from './asset-context.js';
import { AssetKind } from './asset-kind.js';
import { notStated, productOverviewSchema, type ProductOverview } from './asset-schemas.js';
import { defineAssetTask } from './asset-task.js';
import { Citations, companyNameFromUrl, companyNamePattern, cueScore, fragmentsOf, invitation, rankFragments, type Cue, type Fragment } from './passage-extraction.js';
import {
  attributionOf,
  audiencePhrase,
  differentiatorCues,
  featureCues,
  hasRunTogetherWords,
  isCallToAction,
  looksLikePersonName,
  painScore,
  pricingStatement,
  wordCount,
} from './website-cues.js';

const describes: readonly Cue[] = [
  [/\b(we help|helps?|enables?|empowers?|lets you|allows?|ensures?)\b/i, 4],
  [/\b(platform|software|tool|framework|service|system|solution|product|app)\b/i, 2],
  [/\bfor\b/i, 2],
];

const useCaseCues: readonly Cue[] = [
  [/\b(so you can|so that|in order to)\b/i, 3],
  [/\bto (boost|improve|drive|deliver|reduce|increase|get|enhance|streamline|focus|land|respond|keep|cover|find|build|grow|ship|launch)\b/i, 3],
  [/\b(use \w+ to|helps? .* (get|land|build|grow))\b/i, 2],
  [/\b(improve|reduce|increase|boost|enhance|deliver|land|grow|scale|cover|streamline|get)\w*\b/i, 1],
];

/** A sentence or line that is the company's own words, long enough to say something. */
const companyStatement = (fragment: Fragment, minimumWords: number) =>
  !fragment.customerVoice && !isCallToAction(fragment) && wordCount(fragment) >= minimumWords && attributionOf(fragment) === undefined;

/** Headings of sections about problems: their lines are pains, not features or strengths. */
const painHeading = /\b(problems?|costs?|challenges?|pain)\b/i;

/** A short statement of the company's that could name a feature: not a person, a price or a pain. */
const isFeatureCandidate = (fragment: Fragment) =>
  companyStatement(fragment, 3) &&
  wordCount(fragment) <= 30 &&
  !looksLikePersonName(fragment.text) &&
  !hasRunTogetherWords(fragment.text) &&
  !pricingStatement.test(fragment.text) &&
  painScore(fragment) < 2;

/** Ends a piece of a composed text with a full stop when it has no closing punctuation. */
const asSentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

/** A heading that says what the company offers: a few words, not a question, not a button. */
const isTagline = (heading: string) => heading.split(/\s+/).length >= 3 && !heading.endsWith('?') && !/^(try|book|get|see|start)\b/i.test(heading);

/**
 * The product overview from the passages alone: each field is a sentence, line or phrase of the
 * website, cited; what the website does not say stays empty or "Not stated on the website.".
 */
export function buildProductOverviewOffline(context: AssetContext): ProductOverview {
  const companyName = context.companyName?.trim() || companyNameFromUrl(context.websiteUrl);
  const fragments = fragmentsOf(context.passages, { companyName });
  const citations = new Citations();
  const taken = new Set<Fragment>();
  const take = (picked: readonly Fragment[]) =>
    picked.map((fragment) => {
      taken.add(fragment);
      return citations.cite(fragment);
    });
  const statements = fragments.filter((fragment) => fragment.shape !== 'heading' && companyStatement(fragment, 3));
  const namesCompany = companyNamePattern(companyName);

  const [describing] = rankFragments(
    statements.filter((fragment) => wordCount(fragment) >= 8 && !invitation.test(fragment.text)),
    (fragment) => cueScore(fragment.text, describes) + (namesCompany?.test(fragment.text) ? 3 : 0) + (fragment.passageIndex <= 1 ? 1 : 0) - (painScore(fragment) > 0 ? 3 : 0),
    { limit: 1, minimumScore: 2 },
  );
  let description = notStated;
  if (describing) {
    const tagline = fragments.find((fragment) => fragment.shape === 'heading' && fragment.passageIndex === describing.passageIndex);
    const sentence = take([describing])[0]!;
    description = tagline && isTagline(tagline.text) ? `${asSentence(citations.cite(tagline))} ${asSentence(sentence)}` : asSentence(sentence);
  } else if (context.websiteSummary?.trim()) {
    // The content service's summary of the site; not a passage, so it cannot be cited.
    description = context.websiteSummary.trim().slice(0, 1000);
  }

  const painPoints = take(
    rankFragments(statements, (fragment) => painScore(fragment), { limit: 5, minimumScore: 3, exclude: taken }),
  );
  const keyFeatures = take(
    rankFragments(
      fragments.filter((fragment) => isFeatureCandidate(fragment) && (fragment.shape !== 'heading' || wordCount(fragment) <= 8)),
      (fragment) => cueScore(fragment.text, featureCues) + (fragment.shape === 'line' ? 1 : 0) - (painHeading.test(fragment.heading) ? 2 : 0),
      { limit: 6, minimumScore: 2, exclude: taken },
    ),
  );
  const differentiators = take(
    rankFragments(
      fragments.filter((fragment) => !isCallToAction(fragment) && wordCount(fragment) >= 3 && attributionOf(fragment) === undefined),
      (fragment) => cueScore(fragment.text, differentiatorCues) - (painHeading.test(fragment.heading) ? 2 : 0),
      { limit: 4, minimumScore: 3, exclude: taken },
    ),
  );
  // A use case may repeat the description's sentence: "get their first 1000 customers" is both.
  const useCases = rankFragments(
    statements.filter((fragment) => !keyFeatures.includes(fragment.text) && !painPoints.includes(fragment.text)),
    (fragment) => cueScore(fragment.text, useCaseCues),
    { limit: 3, minimumScore: 3 },
  ).map((fragment) => citations.cite(fragment));

  // Who the website says it serves, then the customers it quotes (named companies first).
  const customerProfiles: string[] = [];
  const addProfile = (profile: string, fragment: Fragment) => {
    if (customerProfiles.length >= 6 || customerProfiles.some((existing) => existing.toLowerCase() === profile.toLowerCase())) return;
    customerProfiles.push(profile);
    citations.cite(fragment);
  };
  for (const fragment of fragments) {
    const audience = audiencePhrase.exec(fragment.text)?.[1];
    if (audience && !fragment.customerVoice) addProfile(audience, fragment);
  }
  const attributions = fragments.flatMap((fragment) => attributionOf(fragment) ?? []);
  for (const attribution of attributions.filter((candidate) => candidate.company)) addProfile(`${attribution.title} at ${attribution.company}`, attribution.fragment);
  for (const attribution of attributions.filter((candidate) => !candidate.company)) addProfile(attribution.title, attribution.fragment);

  const pricingFragments = rankFragments(
    fragments.filter((fragment) => wordCount(fragment) >= 3 && !isCallToAction(fragment) && pricingStatement.test(fragment.text)),
    () => 1,
    { limit: 2 },
  );
  const pricing = pricingFragments.length > 0 ? take(pricingFragments).map(asSentence).join(' ').slice(0, 500) : notStated;

  return { companyName: companyName.slice(0, 120), description, keyFeatures, useCases, painPoints, customerProfiles, differentiators, pricing, sources: citations.list() };
}

export const productOverviewTask = defineAssetTask<ProductOverview>({
  kind: AssetKind.PRODUCT_OVERVIEW,
  name: 'campaign.product-overview',
  version: '1',
  schema: productOverviewSchema,
  subject: 'product overview',
  guidance: [
    'companyName: the name the website uses for the company (the user\'s notes win).',
    'description: what the product does and for whom, in one or two sentences in the website\'s own terms.',
    'keyFeatures: features or services the website names; useCases: what customers achieve with them.',
    'painPoints: problems the website says it solves; differentiators: what it says sets it apart.',
    'customerProfiles: segments, roles and named customers the website mentions (testimonials, logos, "for …").',
    `pricing: plans and prices only as stated; "${notStated}" when the passages have none.`,
  ],
  offline: buildProductOverviewOffline,
});
