import { kindPriority, type PageKind } from '../crawl/page-kind.js';
import type { ExtractedPage } from './page-extraction.js';
import { siteNameOf } from './site-identity.js';
import { looksLikeJobTitle } from './team-members.js';
import { comparisonKey, countWords, splitSentences } from './text-normalization.js';

/** A passage of the site that supports a fact, quoted as the page has it (a logo as `Logo: <its alt text>`). */
export interface Evidence {
  pageUrl: string;
  text: string;
}

/** What a campaign needs to know about a company, each with the passages that show it. */
export interface SiteFacts {
  /** What the company or product is and does. */
  whatItIs: Evidence[];
  /** Who it is for: roles, company types and sizes, industries. */
  forWhom: Evidence[];
  /** Capabilities and integrations. */
  features: Evidence[];
  /** Customers, testimonials, case studies, logos, results in numbers, certifications, funding. */
  proof: Evidence[];
  /** Prices, plans, trials, billing. */
  pricing: Evidence[];
}

export interface SiteFactsOptions {
  /** Most passages kept for each fact. Default: 12. */
  maximumPerFact?: number;
}

type Fact = keyof SiteFacts;

interface Passage {
  page: ExtractedPage;
  text: string;
  /** `quote`: a testimonial, in quotation marks or in a customer's voice. */
  source: 'description' | 'heading' | 'paragraph' | 'list-item' | 'quote' | 'logo';
  /** Headings above the passage, outermost first. */
  headingPath: string[];
  /** The passage opens its section (the first sentence under a heading). */
  opensSection: boolean;
  /** Page order, then position within the page. */
  order: number;
}

// ---- what each fact looks like -----------------------------------------------------------------

const definingVerbs = /\b(is|are|helps?|lets|enables?|automates?|makes?|provides?|offers?|gives?|turns?|connects?|brings?|ensures?|builds?|delivers?|simplifies|streamlines|powers?|unifies|replaces?)\b/i;
const productNouns = /\b(platform|software|tool|solution|service|app|application|api|framework|system|agency|engine|suite|assistant|marketplace|network|product)s?\b/i;
const audienceNouns =
  '(teams?|companies|company|businesses|founders|startups?|enterprises?|organi[sz]ations|agencies|brands|retailers|developers|engineers|marketers|sellers|reps|leaders|controllers|cfos?|ctos?|ceos?|professionals|smbs?|operators|owners|managers|agents|specialists|departments)';
const audiencePatterns = [
  new RegExp(`\\b(for|helps?|help)\\s+(?:[\\p{L}\\d&/,-]+\\s+){0,3}${audienceNouns}\\b`, 'iu'),
  /\b(built|designed|made|perfect|ideal|tailored|purpose-built) for\b/i,
  /\b(mid-market|smbs?|small (and medium|businesses)|enterprises?|b2b|b2c|early-stage|growth-stage|series [a-c] (startups|companies))\b/i,
  /\b\d[\d,]*\s*(to|-|–)\s*\d[\d,]*\s+(employees|people|staff)\b/i,
  new RegExp(`\\b${audienceNouns}\\s+(in|at|across)\\s+[\\p{L}]`, 'iu'),
];
const capabilityWords =
  /\b(automat|integrat|connect|sync|reconcil|track|monitor|analy[sz]|report|alert|dashboard|workflow|schedul|generat|personali[sz]|customi[sz]|manag|deploy|scal|target|flag|match|import|export|evaluat|sampl|coach|insight|notif|checklist|audit trail|single sign-on|sso|api|plugin|template|collaborat|forecast|search|summar)\w*/i;
const proofPatterns = [
  /\b\d+(\.\d+)?\s?(%|x\b|×)/i,
  /\bfrom \$?\d[\d,.]*\s*\w*\s+to \$?\d[\d,.]*/i,
  /\b(cut|reduced?|saved?|increased?|improved?|grew|doubled|tripled|boost(ed)?|lowered)\b[^.]{0,80}\d/i,
  /\b(trusted|used|loved|relied on|chosen) by\b/i,
  /\b\d[\d,.]*\+?\s*(customers|companies|teams|users|brands|businesses)\s+(use|trust|rely|choose)\b/i,
  /\b(case stud(y|ies)|customer stor(y|ies)|success stor(y|ies)|testimonials?)\b/i,
  /\b(soc ?[12]( type (i|ii|1|2))?|iso ?27001|hipaa|gdpr[- ]compliant|pci[- ]dss)\b/i,
  /\b(raised|backed by|funded by|led by)\b[^.]{0,60}(\$\d|ventures|capital|partners|series [a-e]|seed)/i,
  /\b(rated|stars?|reviews?) (on )?(g2|capterra|trustpilot)\b|\b\d(\.\d)?\s*\/\s*5\b/i,
];
const pricingPatterns = [
  /[$€£]\s?\d[\d,.]*\s*(k|m)?\s*(\/|per|a|an)\s*(user|seat|month|mo|year|yr|agent|member|license|licence)\b/i,
  /\b\d[\d,.]*\s*(usd|eur|gbp|dollars|euros|pounds)\s*(\/|per|a)\s*(user|seat|month|year)\b/i,
  /\b(free trial|free plan|free tier|free forever|billed (annually|monthly|yearly)|custom pricing|pricing|per seat|pay as you go|money-back|plans? (start|from)|no credit card)\b/i,
];
const quoted = /^["“„'‘«]|["”»]\s*[—–-]/;
// Testimonials without quotation marks speak as the customer: "I've", "my", "since adopting X".
const customerVoice = [/\b(I|I'm|I’m|I've|I’ve|I'd|I’d|my|me)\b/, /\b(since|after) (adopting|implementing|using|switching to|moving to)\b|\b(enables?|allows?|helps?|helped|lets) us to\b/i];
// Sections that list the roles or teams a product serves.
const audienceHeading = /\b(roles?|teams?|who (it'?s|we serve|we work with)|for (you|whom)|built for|use cases?|solutions|industries)\b/i;

function matchesAny(patterns: readonly RegExp[], text: string): boolean {
  return patterns.some((pattern) => pattern.test(text));
}

// ---- reading the site into passages ------------------------------------------------------------

function passagesOf(pages: readonly ExtractedPage[]): Passage[] {
  const passages: Passage[] = [];
  pages.forEach((page, pageIndex) => {
    let order = pageIndex * 100_000;
    if (page.description) passages.push({ page, text: page.description, source: 'description', headingPath: [], opensSection: true, order: order++ });
    for (const heading of page.headings) passages.push({ page, text: heading.text, source: 'heading', headingPath: [], opensSection: false, order: order++ });
    for (const section of page.sections) {
      section.blocks.forEach((block, blockIndex) => {
        // List items and testimonials are one piece of evidence; paragraphs are read sentence by sentence.
        const isTestimonial = block.kind === 'quote' || quoted.test(block.text) || matchesAny(customerVoice, block.text);
        const pieces = block.kind === 'paragraph' && !isTestimonial ? splitSentences(block.text) : [block.text];
        pieces.forEach((text, pieceIndex) => {
          const source = isTestimonial ? 'quote' : block.kind;
          passages.push({ page, text, source, headingPath: section.headingPath, opensSection: blockIndex === 0 && pieceIndex === 0, order: order++ });
        });
      });
    }
    for (const logo of page.logos) passages.push({ page, text: `Logo: ${logo}`, source: 'logo', headingPath: [], opensSection: false, order: order++ });
  });
  return passages;
}

/** How strongly a passage supports each fact; 0 = not at all. */
function scoresOf(passage: Passage, siteNameKey: string): Record<Fact, number> {
  const { text, page, source } = passage;
  const kind: PageKind = page.kind;
  const words = countWords(text);
  const key = comparisonKey(text);
  const namesCompany = siteNameKey.length > 0 && key.includes(siteNameKey);
  const isMarketingPage = kind === 'HOME' || kind === 'PRODUCT' || kind === 'ABOUT';
  const scores: Record<Fact, number> = { whatItIs: 0, forWhom: 0, features: 0, proof: 0, pricing: 0 };
  if (source === 'logo') {
    // The company's own logo is not proof of anything.
    scores.proof = namesCompany ? 0 : 1;
    return scores;
  }
  if (source === 'heading') {
    // "Panfactum Cloud Native Framework (PCNF)": a heading that names the product says what it is.
    if (namesCompany && productNouns.test(text) && isMarketingPage) scores.whatItIs = 1;
    return scores;
  }
  // Two words can be a price line ("Custom pricing."), one an integration in a list ("NetSuite"); a lone word elsewhere is a label.
  if (words < 2 && source !== 'list-item') return scores;

  if (source === 'description' && (kind === 'HOME' || kind === 'PRODUCT')) scores.whatItIs = kind === 'HOME' ? 3 : 1.5;
  else if (isMarketingPage && source !== 'quote' && words >= 6 && (namesCompany || /^we\b/i.test(text)) && definingVerbs.test(text)) scores.whatItIs = namesCompany && productNouns.test(text) ? 2 : 1;
  else if (isMarketingPage && source !== 'quote' && words >= 6 && (namesCompany || /\b(our|we)\b/i.test(text)) && productNouns.test(text)) scores.whatItIs = 0.5;

  // About and careers pages describe the team's own past ("Led mid-market sales at …"), not the audience.
  const speaksToBuyers = kind !== 'ABOUT' && kind !== 'CAREERS' && kind !== 'BLOG';
  if (source !== 'quote' && speaksToBuyers && words >= 3 && matchesAny(audiencePatterns, text)) scores.forWhom = source === 'description' ? 2 : 1;
  else if (source !== 'quote' && speaksToBuyers && passage.headingPath.some((heading) => audienceHeading.test(heading)) && looksLikeJobTitle(text)) scores.forWhom = 1;

  if (kind === 'PRODUCT' && source !== 'quote' && source !== 'description') scores.features = passage.opensSection || source === 'list-item' ? 2 : 1;
  else if ((kind === 'HOME' || kind === 'PRODUCT') && source !== 'quote' && words >= 3 && capabilityWords.test(text) && words <= 40) scores.features = source === 'list-item' ? 1.5 : 1;

  if (source === 'quote') scores.proof = 2;
  else if (kind === 'CUSTOMERS' && source !== 'description') scores.proof = 2;
  else if (kind !== 'CAREERS' && kind !== 'PRICING' && words >= 3 && matchesAny(proofPatterns, text)) scores.proof = 1;

  if (kind === 'PRICING') scores.pricing = source === 'description' ? 1.5 : 2;
  else if (kind !== 'CAREERS' && matchesAny(pricingPatterns, text) && !/\b(raised|series [a-e])\b/i.test(text)) scores.pricing = 1;
  return scores;
}

/**
 * Heuristic evidence for the facts a campaign needs: what the company is, for whom, its
 * features, proof (customers, testimonials, logos, case studies, results, certifications) and
 * pricing. Each fact lists quoted passages, strongest first (by how clearly the passage shows the
 * fact, then by how informative its page kind is, then in site order), each passage once per fact.
 * No model: read by the quality score, and as grounding for generation.
 */
export function findSiteFacts(pages: readonly ExtractedPage[], options: SiteFactsOptions = {}): SiteFacts {
  const maximumPerFact = options.maximumPerFact ?? 12;
  const siteNameKey = comparisonKey(siteNameOf(pages));
  const ranked: Record<Fact, Array<{ passage: Passage; score: number }>> = { whatItIs: [], forWhom: [], features: [], proof: [], pricing: [] };
  for (const passage of passagesOf(pages)) {
    const scores = scoresOf(passage, siteNameKey);
    for (const fact of Object.keys(ranked) as Fact[]) if (scores[fact] > 0) ranked[fact].push({ passage, score: scores[fact] });
  }
  const facts = {} as SiteFacts;
  for (const fact of Object.keys(ranked) as Fact[]) {
    const seen = new Set<string>();
    facts[fact] = ranked[fact]
      .toSorted((first, second) => second.score - first.score || kindPriority[second.passage.page.kind] - kindPriority[first.passage.page.kind] || first.passage.order - second.passage.order)
      .filter(({ passage }) => {
        const key = comparisonKey(passage.text);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .slice(0, maximumPerFact)
      .map(({ passage }) => ({ pageUrl: passage.page.url, text: passage.text }));
  }
  return facts;
}
