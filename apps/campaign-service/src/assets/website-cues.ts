import type { SeniorityLevel } from './asset-schemas.js';
import { cueScore, type Cue, type Fragment } from './passage-extraction.js';

// The words B2B websites use for each kind of statement. The offline tasks score fragments with
// them; they decide only which of the website's own sentences go where, never what is said.

/** Buttons and navigation: "Book a demo", "View all features", "Learn more". */
const callToAction =
  /^(book|get started|start|try|sign up|request|schedule|contact|talk to|learn more|view all|see (all|more|how)|watch|read more|join|download|click|continue|work with us|how we work|open source|github|discord|pause)\b/i;

export function isCallToAction(fragment: Fragment): boolean {
  return fragment.shape === 'line' && fragment.words.length <= 6 && callToAction.test(fragment.text);
}

/** Words of a fragment. */
export const wordCount = (fragment: Fragment) => fragment.words.length;

/** A capture that ran a name into the next line: "Panfactum FrameworkPanfactum Cloud …", "Wes BragaPlatform Engineer". */
export function hasRunTogetherWords(text: string): boolean {
  return /\p{Ll}{2}\p{Lu}\p{Ll}/u.test(text);
}

/** "Wes Braga", "Thomas Kolovos": two to four capitalised words and nothing else. */
export function looksLikePersonName(text: string): boolean {
  return /^(\p{Lu}[\p{Ll}'’-]+)(\s\p{Lu}[\p{Ll}'’-]+){1,3}$/u.test(text.trim());
}

export const painCues: readonly Cue[] = [
  [/\b(time-consuming|manual|tedious|cumbersome|complex|difficult|hard to|hassle|headaches?)\b/i, 2],
  [/\b(limited|limits|limitations?|only a fraction|partial|ceiling|blind ?spots?|gaps?|lack of|poor|untracked|over-provisioned)\b/i, 2],
  [/\b(slow(s|er)?( down)?|wasting|waste[ds]?|hours|delays?|spiral\w*|inflating|hurting|distracting|nightmare|killer|struggl\w*|pain|problems?|risks?)\b/i, 2],
  [/\b(costs?|expensive|budget)\b/i, 1],
];

/** A pain word under a negation ("no lengthy delays", "without the hassle") is a promise, not a pain. */
export const negatedPain = /\b(no|without|never|zero|not)\s+(\S+\s+){0,2}(extra|lengthy|delays?|hassle|limits?|hidden|waiting|manual)\b/i;

export function painScore(fragment: Fragment): number {
  if (negatedPain.test(fragment.text)) return 0;
  // "Use your custom rules … in minutes, not hours" names a pain only to offer the cure: a feature.
  const offersCure = capabilityStart.test(fragment.text) ? 2 : 0;
  return Math.max(0, cueScore(fragment.text, painCues) + (/\b(problems?|challenges?|pain|why|costs?)\b/i.test(fragment.heading) ? 1 : 0) - offersCure);
}

/** Verbs a feature or a capability line starts with. */
export const capabilityStart =
  /^(deploy|scale|manage|connect|design|custom\w*|automate|track|monitor|analy[sz]e|segment|get|see|read|access|enable|train|use|set|unlock|standardi[sz]e|save|build|integrate|sync|enrich|score|generate|personali[sz]e|send|schedule|report|alert|launch|receive|stay|find|create|run|search|share|collaborate|transform|empower|drive|break|outreach|hyper-precise|end-to-end)\b/i;

export const featureCues: readonly Cue[] = [
  [capabilityStart, 3],
  [
    /\b(features?|capabilit\w*|AI|automat\w*|dashboards?|workflows?|scorecards?|analytics|insights?|reports?|reporting|alerts?|notifications?|integrat\w*|modules?|templates?|targeting|setup|management|support|upgrades?|migration|outreach|sampling|evaluations?|coaching|monitoring|summaries|framework|platform)\b/i,
    2,
  ],
];

export const differentiatorCues: readonly Cue[] = [
  [/\b(only|unlike|compared to|instead of|stands out|no other|better than|faster than|unique|guaranteed|open[- ]source|self-hosted|fully managed|expertly|personali[sz]ed by experts|white-glove|world-class|most flexible)\b/i, 3],
  [/\b(no lengthy|no extra|no limits|without hiring|without the hassle|in under \d+|move fast)\b/i, 3],
  [/\d+\s?%|\b\d+x\b/i, 1],
  [/\bbut\b/i, 1],
];

/** A number that shows a result: "by 40%", "50% faster", "in 2 days", "$500". */
export const proofCue = /\d+\s?%|\b\d+x\b|\b\d[\d,.]*\s*(hours|minutes|days|weeks|customers|tickets|grand|bucks)\b|[$€£]\s?\d/i;

export const audienceNouns =
  '(?:founders|teams|companies|businesses|startups|agencies|engineers|leaders|organi[sz]ations|enterprises|brands|retailers|developers|marketers|sellers|operators|managers|leads)';
/** "help early-stage B2B founders", "For Early-Stage B2B Founders", "built for support teams". */
export const audiencePhrase = new RegExp(`\\b(?:help|helps|for|built for|designed for|made for)\\s+((?:[\\p{L}\\p{N}-]+\\s+){0,4}${audienceNouns})\\b`, 'iu');

/** Prices as a website states them. */
export const pricingStatement =
  /[$€£]\s?\d[\d,.]*\s*[kKmM]?\s*(\/|per|a)\s*(month|mo|year|yr|user|seat|record|contact|lead|credit|agent)\b|\b(pricing|plans? (start|from)|starting at|free trial|free plan|per seat|per user|custom quote|contact (us|sales) for pricing|billed (monthly|annually))\b/i;

const titleWord = '(?:Engineer|Developer|Architect|Lead|Manager|Director|Specialist|Associate|Agent|Officer|Analyst|Consultant|Founder|Co-founder|Owner|President|Representative|Executive|Administrator|Coordinator)';
const titlePattern = new RegExp(`^(?:(?:[\\p{Lu}][\\p{L}&/-]*|of|and|&)\\s+){0,4}${titleWord}s?$|^(?:Head|VP|Vice President|Chief)\\b.*|^C[A-Z]O$`, 'u');

/** A job title as written: "QA Team Lead", "Head of Customer Experience", "CTO". */
export function isJobTitle(text: string): boolean {
  return titlePattern.test(text.trim()) && text.trim().split(/\s+/).length <= 7;
}

/** Someone a website quotes: their title and, when it says, their company. */
export interface Attribution {
  title: string;
  company: string | null;
  fragment: Fragment;
}

/**
 * Reads a testimonial's signature: "QA Team Lead at Blueground", "CX Specialist, Ziina",
 * "Albert Luque Strazecki — Associate Director, Operational Excellence, Deel", and run-together
 * captures such as "Joshua LevyHead of Engineering". Returns substrings of the fragment.
 */
export function attributionOf(fragment: Fragment): Attribution | undefined {
  if (fragment.shape === 'sentence' || fragment.words.length > 12) return undefined;
  let text = fragment.text;
  const dash = text.search(/\s[—–-]\s/);
  if (dash >= 0) text = text.slice(dash + 3);
  // A name run into the title ("LevyHead") loses the name: the title starts at the last capital
  // that follows a lower-case letter.
  const runTogether = [...text.matchAll(/\p{Ll}(\p{Lu})/gu)].at(-1);
  if (runTogether && dash < 0) text = text.slice(runTogether.index + 1);
  const atCompany = /^(.+?)\s+at\s+(\p{Lu}[\p{L}\p{N}&.'’ -]{1,40})$/u.exec(text);
  const parts = atCompany ? [atCompany[1]!, atCompany[2]!] : text.split(/,\s*/);
  const title = parts[0]!.trim().replace(/,.*$/, '');
  if (!isJobTitle(title)) return undefined;
  const last = parts.length > 1 ? parts.at(-1)!.trim() : null;
  const company = last && /^\p{Lu}[\p{L}\p{N}&.'’-]*(\s\p{Lu}[\p{L}\p{N}&.'’-]*){0,2}$/u.test(last) && !isJobTitle(last) ? last : null;
  return { title, company, fragment };
}

/** Titles a sentence opens with in the plural ("QA Leads reduce …", "Support Agents see …"), made singular. */
export function leadingPluralTitle(fragment: Fragment): string | undefined {
  const match = /^((?:\p{Lu}[\p{L}&-]*\s+){0,3}(?:Lead|Manager|Specialist|Agent|Engineer|Founder|Director|Developer)s)\b/u.exec(fragment.text);
  return match ? match[1]!.slice(0, -1) : undefined;
}

const seniorityRules: ReadonlyArray<readonly [RegExp, SeniorityLevel]> = [
  [/\b(founders?|co-founders?|owners?)\b/i, 'OWNER'],
  [/^C[A-Z]O$|\bchief\b/i, 'C_LEVEL'],
  [/\b(VP|vice president)\b/i, 'VP'],
  [/\b(head of|director)\b/i, 'DIRECTOR'],
  [/\b(lead|manager)\b/i, 'MANAGER'],
];

export function seniorityOf(title: string): SeniorityLevel {
  return seniorityRules.find(([pattern]) => pattern.test(title))?.[1] ?? 'INDIVIDUAL_CONTRIBUTOR';
}

const departmentRules: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(engineer\w*|developer|platform|devops|CTO|architect|infrastructure)\b/i, 'Engineering'],
  [/\b(support|CX|customer experience|customer service|quality assurance|QA)\b/i, 'Customer Support'],
  [/\b(sales|SDR|BDR|account executive|revenue|CRO)\b/i, 'Sales'],
  [/\b(marketing|growth|CMO|demand)\b/i, 'Marketing'],
  [/\b(operations|operational|COO)\b/i, 'Operations'],
  [/\b(finance|CFO)\b/i, 'Finance'],
  [/\b(founders?|co-founders?|CEO|owner|president)\b/i, 'Executive Leadership'],
];

/** Departments a text (a title, a signature) points to, in a fixed order. */
export function departmentsOf(text: string): string[] {
  return departmentRules.filter(([pattern]) => pattern.test(text)).map(([, department]) => department);
}

