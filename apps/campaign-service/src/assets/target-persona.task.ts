import type { AssetContext } from './asset-context.js';
import { AssetKind } from './asset-kind.js';
import { buyingRoles, notStated, seniorityLevels, targetPersonaSchema, type BuyingRole, type SeniorityLevel, type TargetPersona } from './asset-schemas.js';
import { defineAssetTask, prerequisiteOf } from './asset-task.js';
import { Citations, contentWordsOf, cueScore, fragmentsOf, overlapShare, rankFragments, shorten, stemOf, type Cue, type Fragment } from './passage-extraction.js';
import { buildProductOverviewOffline } from './product-overview.task.js';
import { buildTargetCompanyOffline } from './target-company.task.js';
import { attributionOf, departmentsOf, isCallToAction, leadingPluralTitle, painScore, seniorityOf, wordCount } from './website-cues.js';

/** A job title the website mentions, with the fragment that mentions it. */
interface TitleMention {
  title: string;
  fragment: Fragment;
}

/** Titles in testimonial signatures, role lists, "founders" and "QA Leads reduce …", first mention first. */
function titleMentions(fragments: readonly Fragment[]): TitleMention[] {
  const mentions: TitleMention[] = [];
  const add = (title: string, fragment: Fragment) => {
    if (!mentions.some((mention) => mention.title.toLowerCase() === title.toLowerCase())) mentions.push({ title, fragment });
  };
  for (const fragment of fragments) {
    const attribution = attributionOf(fragment);
    if (attribution) add(attribution.title, fragment);
    const plural = leadingPluralTitle(fragment);
    if (plural) add(plural, fragment);
    if (!fragment.customerVoice && /\bfounders?\b/i.test(fragment.text)) add('Founder', fragment);
  }
  return mentions;
}

const levelRank = (level: SeniorityLevel) => seniorityLevels.indexOf(level);

// The parts people at each level usually play: derived from titles the website gives, so the
// persona's roles follow its titles instead of being guessed apart from them.
const rolesByLevel: Record<SeniorityLevel, readonly BuyingRole[]> = {
  OWNER: ['DECISION_MAKER', 'ECONOMIC_BUYER'],
  C_LEVEL: ['DECISION_MAKER', 'ECONOMIC_BUYER'],
  VP: ['DECISION_MAKER', 'ECONOMIC_BUYER'],
  DIRECTOR: ['DECISION_MAKER', 'CHAMPION'],
  MANAGER: ['CHAMPION', 'INFLUENCER'],
  INDIVIDUAL_CONTRIBUTOR: ['USER', 'INFLUENCER'],
};

const goalCues: readonly Cue[] = [
  [/\b(boost|improve|increase|reduce|save|scale|grow|elevate|drive|deliver|focus|launch|land|achieve|streamline|exceed|ship|get their)\w*\b/i, 2],
  [/\b(faster|easier|quality|customers|consistent|efficiency|pipeline|velocity)\b/i, 1],
];
const reassurance = /\b(no lengthy|no extra work|without hiring|security|secure|guarantee\w*|open[- ]source|self-hosted|no limits|free discovery|in under \d+ minutes|quickly implement|white-glove|migration|managed upgrades)\b/i;
const journeyStep = /\b(book|demo|discovery call|free trial|trial|get started|sign up|talk to|contact|implement|integrat\w*|decide|try)\b/i;

/** The fragment of `candidates` sharing most content words with `text` (first on ties), or undefined when none shares any. */
function closest(text: string, candidates: readonly string[]): string | undefined {
  const words = contentWordsOf(text).map(stemOf);
  let best: { candidate: string; share: number } | undefined;
  for (const candidate of candidates) {
    const share = overlapShare(
      words,
      contentWordsOf(candidate).map(stemOf),
    );
    if (share > 0 && (!best || share > best.share)) best = { candidate, share };
  }
  return best?.candidate;
}

/** What follows "so you can" or "to" in a use case: the outcome it is for. */
function outcomeOf(useCase: string): string {
  const match =
    /\b(?:so (?:you|they|that you) can|so that|in order to)\s+(.+)$/i.exec(useCase) ??
    /\bto\s+((?:boost|improve|drive|deliver|reduce|increase|get|enhance|streamline|focus|land|grow)\b.+)$/i.exec(useCase) ??
    /\bhelps?\s+(?:[\p{L}\p{N}-]+\s+){1,5}?((?:get|land|build|grow|reach|win|close|ship|launch)\b.+)$/iu.exec(useCase);
  return match ? shorten(match[1]!.replace(/[.!?]+$/, ''), 300) : notStated;
}

/**
 * The persona from the passages and the earlier assets: titles the website mentions (testimonial
 * signatures, role sections), the most senior of the most mentioned department as the persona.
 */
export function buildTargetPersonaOffline(context: AssetContext): TargetPersona {
  const overview = prerequisiteOf(context, AssetKind.PRODUCT_OVERVIEW, buildProductOverviewOffline);
  const company = prerequisiteOf(context, AssetKind.TARGET_COMPANY, buildTargetCompanyOffline);
  const fragments = fragmentsOf(context.passages, { companyName: overview.companyName });
  const inherited = [...overview.sources, ...company.sources];
  const citations = new Citations();

  const mentions = titleMentions(fragments);
  const departmentCounts = new Map<string, number>();
  for (const mention of mentions) for (const department of departmentsOf(mention.title)) departmentCounts.set(department, (departmentCounts.get(department) ?? 0) + 1);
  const departments = [...departmentCounts.entries()].toSorted((left, right) => right[1] - left[1]).map(([department]) => department);
  const mainDepartment = departments[0];
  const bySeniority = mentions.toSorted(
    (left, right) =>
      Number(departmentsOf(right.title).includes(mainDepartment ?? '')) - Number(departmentsOf(left.title).includes(mainDepartment ?? '')) ||
      levelRank(seniorityOf(left.title)) - levelRank(seniorityOf(right.title)),
  );
  const persona = bySeniority[0];
  for (const mention of bySeniority.slice(0, 12)) citations.cite(mention.fragment);

  // What the persona says in a testimonial (the sentences just before their signature), or what
  // the website says to them.
  let description: string;
  if (persona) {
    const spoken = fragments.filter((fragment) => fragment.customerVoice && fragment.passageIndex === persona.fragment.passageIndex && fragment.order < persona.fragment.order).at(-1);
    const addressed = fragments.find((fragment) => !fragment.customerVoice && fragment.shape === 'sentence' && fragment.text.toLowerCase().includes(persona.title.toLowerCase().replace(/s$/, '')));
    const said = spoken ?? addressed;
    description = said ? `${persona.title}. ${spoken ? 'In their words' : 'The website speaks to them'}: "${citations.cite(said)}"` : `${persona.title}, as named on the website.`;
  } else {
    description = `The buyer at ${company.name}; the website names no job titles.`;
  }

  const levels = [...new Set(bySeniority.map((mention) => seniorityOf(mention.title)))].toSorted((left, right) => levelRank(left) - levelRank(right));
  const roles = buyingRoles.filter((role) => levels.some((level) => rolesByLevel[level].includes(role)));

  const useCaseTexts = overview.useCases.length > 0 ? overview.useCases : overview.keyFeatures;
  const useCases = useCaseTexts.slice(0, 4).map((useCase) => {
    citations.carry(useCase, fragments, inherited);
    const pain = closest(useCase, overview.painPoints);
    const capability = closest(useCase, overview.keyFeatures.filter((feature) => feature !== useCase)) ?? overview.keyFeatures.find((feature) => feature !== useCase);
    return { useCase, painPoints: pain ? [pain] : [], capability: capability ?? notStated, desiredOutcome: outcomeOf(useCase) };
  });

  const usable = fragments.filter((fragment) => fragment.shape !== 'heading' && !isCallToAction(fragment) && attributionOf(fragment) === undefined);
  const goals = rankFragments(
    usable.filter((fragment) => wordCount(fragment) >= 4 && painScore(fragment) < 2),
    (fragment) => cueScore(fragment.text, goalCues),
    { limit: 5, minimumScore: 3 },
  ).map((fragment) => citations.cite(fragment));
  const objections = usable
    .filter((fragment) => reassurance.test(fragment.text))
    .slice(0, 5)
    .map((fragment) => citations.cite(fragment));
  const purchaseJourney = fragments
    .filter((fragment) => wordCount(fragment) >= 2 && journeyStep.test(fragment.text) && !fragment.customerVoice)
    .slice(0, 6)
    .map((fragment) => citations.cite(fragment));

  return {
    name: shorten(persona?.title ?? `Buyer at ${company.name}`, 120),
    description: shorten(description, 1000),
    jobTitles: bySeniority.slice(0, 12).map((mention) => shorten(mention.title, 100)),
    departments: departments.slice(0, 8),
    seniority: levels,
    buyingRoles: roles,
    useCases,
    goals,
    objections,
    buyingSignals: company.buyingSignals.slice(0, 10).map((signal) => shorten(signal.title, 300)),
    purchaseJourney,
    sources: citations.list(),
  };
}

export const targetPersonaTask = defineAssetTask<TargetPersona>({
  kind: AssetKind.TARGET_PERSONA,
  name: 'campaign.target-persona',
  version: '1',
  schema: targetPersonaSchema,
  subject: 'target persona (the person to write to at the target company)',
  guidance: [
    'name and description: the buyer at the target company; jobTitles, departments, seniority and buyingRoles follow from them.',
    'useCases: each with the pain points behind it, the capability of the product that answers it and the outcome wanted.',
    'goals, objections, buyingSignals (what this person does when ready to buy) and purchaseJourney (steps in order).',
    'Prefer titles and words the website uses (testimonial signatures, role sections) over generic ones.',
  ],
  offline: buildTargetPersonaOffline,
});
