import type { AssetContext } from './asset-context.js';
import { AssetKind } from './asset-kind.js';
import { notStated, targetCompanySchema, type BuyingSignalType, type Priority, type TargetCompany } from './asset-schemas.js';
import { defineAssetTask, prerequisiteOf } from './asset-task.js';
import { Citations, contentWordsOf, fragmentsOf, shorten, type Fragment } from './passage-extraction.js';
import { buildProductOverviewOffline } from './product-overview.task.js';
import { attributionOf, audiencePhrase, isCallToAction } from './website-cues.js';

/** A signal the website gives grounds for, when one of its fragments matches `cue`. */
interface SignalRule {
  cue: RegExp;
  type: BuyingSignalType;
  priority: Priority;
  title(match: string): string;
  why: string;
  detectionMethod: string;
}

// Each rule fires only when the website itself talks about the thing (the cited sentence is in the
// signal's description); what to look for follows from it, not from guesses about the market.
const signalRules: readonly SignalRule[] = [
  {
    cue: /\b(hiring|hire|recruit\w*|SDRs?|sales team|platform team|headcount)\b/i,
    type: 'HIRING',
    priority: 'HIGH',
    title: () => 'Hiring for the work the product takes over',
    why: 'The website offers the product in place of hiring',
    detectionMethod: 'Open roles for that work on the company\'s careers page and LinkedIn job posts.',
  },
  {
    cue: /\b(early-stage|pre-seed|seed|series [a-e]|funding|raised|startups?|venture)\b/i,
    type: 'FUNDING',
    priority: 'MEDIUM',
    title: () => 'Early-stage or recently funded',
    why: 'The website speaks to companies at this stage',
    detectionMethod: 'Funding announcements and company databases (e.g. Crunchbase, press releases) from the last six months.',
  },
  {
    cue: /\b(AWS|Azure|GCP|Google Cloud|Kubernetes|Zendesk|Intercom|Salesforce|HubSpot|Freshdesk|help desk|Datadog|Snowflake|Shopify)\b/i,
    type: 'TECHNOLOGY',
    priority: 'MEDIUM',
    title: (technology) => `Uses ${technology}`,
    why: 'The website names this technology',
    detectionMethod: 'Technographic data (e.g. BuiltWith, job posts that name the tool).',
  },
  {
    cue: /\b(compliance|SOC ?2|GDPR|HIPAA|ISO 27001|security)\b/i,
    type: 'COMPLIANCE',
    priority: 'MEDIUM',
    title: () => 'Facing compliance or audit requirements',
    why: 'The website addresses compliance and security',
    detectionMethod: 'Certifications pursued, security or compliance roles posted, audit announcements.',
  },
  {
    cue: /\b(scal(e|es|ing)|growth|growing|first \d+ customers|ticket (volume|load))\b/i,
    type: 'GROWTH',
    priority: 'LOW',
    title: () => 'Growing volume or headcount',
    why: 'The website ties its value to growth',
    detectionMethod: 'Headcount growth on LinkedIn, new markets or offices, rising customer or ticket volume.',
  },
];

// Only literal mentions count: a word list, matched in the website's own text.
const industryWords = /\b(SaaS|fintech|e-?commerce|healthcare|logistics|manufacturing|retail|insurance|banking|real estate|education|edtech|gaming|cybersecurity|marketing agencies|travel|hospitality|telecom\w*|automotive|media)\b/gi;
const geographyWords = /\b(United States|USA|US|North America|Europe|EMEA|UK|United Kingdom|APAC|LATAM|Germany|France|Canada|Australia|India|Middle East)\b/g;
const employeeRangePattern = /\b\d[\d,]*\s*(?:-|–|to)\s*\d[\d,]*\+?\s*(?:employees|people|staff)\b|\b\d[\d,]*\+\s*(?:employees|people|staff)\b/i;
const revenueRangePattern = /[$€£]\s?\d[\d.,]*\s*[KMB]?\s*(?:-|–|to)\s*[$€£]?\s?\d[\d.,]*\s*[KMB]?\s*(?:in\s+)?(?:ARR|revenue)\b/i;
const fundingStagePattern = /\b(early-stage|pre-seed|seed-stage|series [a-e]|growth-stage|late-stage|venture-backed|bootstrapped)\b/i;

/** The first match of `pattern` in the fragments, as written, with the fragment it came from. */
function firstMatch(fragments: readonly Fragment[], pattern: RegExp): { text: string; fragment: Fragment } | undefined {
  for (const fragment of fragments) {
    const match = pattern.exec(fragment.text);
    if (match) return { text: match[1] ?? match[0], fragment };
  }
  return undefined;
}

/** Every distinct match of a global `pattern`, as first written, each with its fragment. */
function allMatches(fragments: readonly Fragment[], pattern: RegExp, limit: number): Array<{ text: string; fragment: Fragment }> {
  const found = new Map<string, { text: string; fragment: Fragment }>();
  for (const fragment of fragments) {
    for (const match of fragment.text.matchAll(pattern)) {
      const key = match[0].toLowerCase();
      if (!found.has(key) && found.size < limit) found.set(key, { text: match[0], fragment });
    }
  }
  return [...found.values()];
}

// Words of buttons, navigation and chart labels: frequent on every website, telling of none.
const genericWords = ['work', 'free', 'book', 'demo', 'call', 'learn', 'started', 'actual', 'projected', 'click', 'video', 'view', 'features', 'based', 'team'];

/** Words the company's own statements repeat most: what to search a company database with. */
function keywordsOf(fragments: readonly Fragment[], companyName: string): string[] {
  const excluded = new Set([...contentWordsOf(companyName), ...genericWords]);
  const counts = new Map<string, number>();
  for (const fragment of fragments) {
    if (fragment.customerVoice || isCallToAction(fragment) || attributionOf(fragment) || (fragment.shape === 'line' && /(^|[^\p{L}])[$€£]?\d/u.test(fragment.text))) continue;
    for (const word of new Set(contentWordsOf(fragment.text))) {
      if (!excluded.has(word) && !/^\d/.test(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .filter(([, count]) => count >= 2)
    .toSorted((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))
    .slice(0, 12)
    .map(([word]) => word);
}

/**
 * The target company from the passages and the product overview: firmographics only where the
 * website states them (null or empty otherwise), buying signals only where it gives grounds.
 */
export function buildTargetCompanyOffline(context: AssetContext): TargetCompany {
  const overview = prerequisiteOf(context, AssetKind.PRODUCT_OVERVIEW, buildProductOverviewOffline);
  const fragments = fragmentsOf(context.passages, { companyName: overview.companyName });
  const citations = new Citations();
  // Firmographics come from what the company says about its market, not from a customer's aside.
  const companyWords = fragments.filter((fragment) => !fragment.customerVoice);
  const cite = <Found extends { text: string; fragment: Fragment }>(found: Found | undefined) => {
    if (found) citations.cite(found.fragment);
    return found?.text ?? null;
  };

  const audience = firstMatch(
    fragments.filter((fragment) => !fragment.customerVoice),
    audiencePhrase,
  );
  const namedCustomers = [...new Set(fragments.flatMap((fragment) => attributionOf(fragment)?.company ?? []))];
  const name = audience ? shorten(audience.text.charAt(0).toUpperCase() + audience.text.slice(1), 120) : namedCustomers.length > 0 ? shorten(`Companies like ${namedCustomers.join(', ')}`, 120) : `Companies ${overview.companyName} serves`;
  if (audience) citations.cite(audience.fragment);
  for (const fragment of fragments) {
    if (attributionOf(fragment)?.company) citations.cite(fragment);
  }

  const descriptionParts = [overview.description === notStated ? `${overview.companyName} does not say on its website what it sells.` : overview.description];
  if (audience) descriptionParts.push(`The website addresses ${audience.text}.`);
  if (namedCustomers.length > 0) descriptionParts.push(`Customers quoted on the website: ${namedCustomers.join(', ')}.`);
  citations.carry(overview.description, fragments, overview.sources);

  const mentions = (pattern: RegExp) => fragments.find((fragment) => pattern.test(fragment.text));
  const b2b = mentions(/\bB2B\b/);
  const b2c = mentions(/\bB2C\b/);
  const saas = mentions(/\bSaaS\b/);
  const businessModel = [b2b && 'B2B', b2c && 'B2C', saas && 'SaaS'].filter(Boolean).join(' ') || null;
  for (const fragment of [b2b, b2c, saas]) if (fragment) citations.cite(fragment);

  const buyingSignals: TargetCompany['buyingSignals'] = [];
  for (const pain of overview.painPoints.slice(0, 2)) {
    citations.carry(pain, fragments, overview.sources);
    buyingSignals.push({
      title: shorten(`Feels the problem: ${pain}`, 120),
      description: shorten(`The website names this problem: "${pain}". A company that shows it publicly needs a fix now.`, 500),
      type: 'PAIN_POINT',
      priority: 'HIGH',
      detectionMethod: 'Job posts, reviews, forum threads or public statements by the company that describe this problem.',
    });
  }
  for (const rule of signalRules) {
    const found = firstMatch(fragments, rule.cue);
    if (!found) continue;
    citations.cite(found.fragment);
    buyingSignals.push({
      title: shorten(rule.title(found.text), 120),
      description: shorten(`${rule.why}: "${found.fragment.text}"`, 500),
      type: rule.type,
      priority: rule.priority,
      detectionMethod: rule.detectionMethod,
    });
  }

  const disqualifiers = fragments
    .filter((fragment) => /\b(not for|isn't for|isn’t for|not a fit|not designed for|only for)\b/i.test(fragment.text))
    .slice(0, 5)
    .map((fragment) => citations.cite(fragment));

  const rationale = [
    `Built from the website without a language model.`,
    audience ? `The website names its audience: ${audience.text}.` : 'The website does not name its audience in so many words.',
    namedCustomers.length > 0 ? `It quotes customers at ${namedCustomers.join(', ')}.` : '',
    overview.painPoints.length > 0 ? `It describes ${overview.painPoints.length} problem(s) such companies have.` : '',
  ]
    .filter(Boolean)
    .join(' ');

  return {
    name,
    description: shorten(descriptionParts.join(' '), 1000),
    firmographics: {
      industries: allMatches(companyWords, industryWords, 10).map((found) => cite(found)!),
      employeeRange: cite(firstMatch(fragments, employeeRangePattern)),
      revenueRange: cite(firstMatch(fragments, revenueRangePattern)),
      geographies: allMatches(companyWords, geographyWords, 10).map((found) => cite(found)!),
      businessModel,
      fundingStage: cite(firstMatch(fragments, fundingStagePattern)),
      keywords: keywordsOf(fragments, overview.companyName),
    },
    buyingSignals: buyingSignals.slice(0, 10),
    disqualifiers,
    rationale: shorten(rationale, 1000),
    sources: citations.list(),
  };
}

export const targetCompanyTask = defineAssetTask<TargetCompany>({
  kind: AssetKind.TARGET_COMPANY,
  name: 'campaign.target-company',
  version: '1',
  schema: targetCompanySchema,
  subject: 'target company profile (the ideal customer company)',
  guidance: [
    'name: the segment in a few words; description: which companies and why they need the product.',
    'firmographics: industries, employee and revenue ranges, geographies, business model and funding stage only where the website, the product overview or the user\'s notes support them; null or [] otherwise.',
    'firmographics.keywords: words that find such companies in a company database.',
    'buyingSignals: events that show a company needs the product now (type, priority, and where to detect them).',
    'disqualifiers: what rules a company out; rationale: why this segment, tied to the product overview.',
  ],
  offline: buildTargetCompanyOffline,
});
