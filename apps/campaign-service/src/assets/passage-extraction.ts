import type { WebsitePassage } from './asset-context.js';
import { maximumSources, type AssetSource } from './asset-schemas.js';

// The offline tasks answer from the passages alone: they pick whole sentences and lines, copy
// them as they stand and cite them. Everything here keeps a fragment's text an exact substring of
// its passage (markup is blanked out around it, never rewritten inside it), so every quote an
// offline asset carries can be found again in the website.

/** How a fragment stands in its passage. */
export type FragmentShape = 'heading' | 'sentence' | 'line';

/** A sentence, a standalone line (a list item, a label) or a heading of one passage. */
export interface Fragment {
  /** Copied from the passage's text (or heading) character for character. */
  text: string;
  pageUrl: string;
  /** The heading of the passage the fragment is in. */
  heading: string;
  /** Position of the passage among the ones given (0 = most relevant). */
  passageIndex: number;
  /** Position among all fragments: ties are broken by it, so results never depend on sort stability. */
  order: number;
  shape: FragmentShape;
  /** A customer speaking (a testimonial) rather than the company. */
  customerVoice: boolean;
  /** Lower-case words, run-together words split ("BragaPlatform" → braga, platform). */
  words: string[];
}

/** The longest quote a source may carry (sourceSchema). */
export const maximumQuoteLength = 300;

const blank = (match: string) => match.replace(/[^\n]/g, '\n');

/**
 * Markdown and HTML around the words, replaced by line breaks of the same length: offsets stay
 * those of the original, and a link label or list item becomes a line of its own.
 */
function blankMarkup(text: string): string {
  return text
    .replace(/!\[[^\]\n]*\]\([^)\n]*\)/g, blank)
    .replace(/\]\([^)\s]*\)/g, blank)
    .replace(/<[^>\n]+>/g, blank)
    .replace(/https?:\/\/\S+/g, blank)
    .replace(/\*\*|__|\\|[[\]|•·]/g, blank)
    .replace(/^[ \t]*(?:#{1,6}|[-*+>]|\d{1,2}[.)])(?=[ \t])/gm, blank);
}

// A sentence ends at . ! or ? (and any closing quote) before whitespace and a capital, a digit or
// an opening quote; "e.g. the" and "$1.5M" do not end one.
const sentenceEnd = /[.!?]+["”’)]*\s+(?=["“‘(]?[\p{Lu}\p{N}$€£])/gu;
const leadingDecoration = /^[^\p{L}\p{N}$€£]+/u;
const trailingDecoration = /[^\p{L}\p{N}.!?%)$€£]+$/u;

/** Spans of `line` (offsets within it) that are sentences, decoration trimmed. */
function sentenceSpans(line: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let start = 0;
  for (const match of line.matchAll(sentenceEnd)) {
    const end = match.index + match[0].trimEnd().length;
    spans.push([start, end]);
    start = match.index + match[0].length;
  }
  spans.push([start, line.length]);
  return spans.flatMap(([from, to]) => {
    const piece = line.slice(from, to);
    const lead = piece.match(leadingDecoration)?.[0].length ?? 0;
    const trail = piece.slice(lead).match(trailingDecoration)?.[0].length ?? 0;
    const trimmed: [number, number] = [from + lead, to - trail];
    return trimmed[1] > trimmed[0] ? [trimmed] : [];
  });
}

/**
 * A crude stem, enough to match "savings" with "save" and "costs" with "cost": common endings
 * dropped, then the first five letters.
 */
export function stemOf(word: string): string {
  return word.replace(/(ings|ing|ed|es|s|ly|er|e)$/, '').slice(0, 5);
}

/** Lower-case words of a text, run-together words ("BragaPlatform") split apart. */
export function wordsOf(text: string): string[] {
  return (
    text
      .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
      .toLowerCase()
      .match(/[\p{L}\p{N}][\p{L}\p{N}'’&-]*/gu) ?? []
  );
}

const stopWords = new Set(
  (
    'a about above after again all also am an and any are as at be because been before being below between both but by can could did do does doing down during each few for from further ' +
    'get gets got had has have having he her here hers him his how i if in into is it its just let lets like made make makes many may me more most much must my no nor not now of off ' +
    'on once one only or other our ours out over own same she should so some such than that the their theirs them then there these they this those through to too under until up ' +
    'upon us very via was we were what when where which while who whom why will with within without would you your yours yourself every everything need needs new use used using ' +
    "we're we’re we've we’ve you're you’re it's it’s don't don’t can't can’t"
  ).split(' '),
);

/** Words that carry meaning: no stop words, no bare numbers, at least three characters. */
export function contentWordsOf(text: string): string[] {
  return wordsOf(text).filter((word) => word.length >= 3 && !stopWords.has(word) && /\p{L}/u.test(word));
}

/** Whitespace, case, quote and dash variants folded, for comparing texts. */
export function normalizeForMatching(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[‘’‚‛′`´]/g, "'")
    .replace(/[“”„‟″«»]/g, '"')
    .replace(/[‐‑‒–—―−]/g, '-')
    .replace(/…/g, '...')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

const firstPersonSingular = /\b(I|I'm|I’m|I've|I’ve|I'd|I’d|my)\b/;
const firstPersonPlural = /\b(we|we're|we’re|we've|we’ve|our|us)\b/i;
/** "Talk to a Panfactum engineer about our approach": the company inviting, not a customer speaking. */
export const invitation = /^(talk|book|contact|learn|get|try|see|discover|join|start|schedule|request|sign|call|read|watch)\b/i;

/** The company's own name as a whole word, case aside; undefined for a blank name. */
export function companyNamePattern(companyName: string | null | undefined): RegExp | undefined {
  const name = companyName?.trim();
  if (!name) return undefined;
  return new RegExp(`\\b${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'i');
}

export interface FragmentOptions {
  /** The company's name: a sentence that names it and says "we" is a customer speaking. Default: none. */
  companyName?: string | null;
}

/**
 * The passages cut into headings, sentences and standalone lines, in passage order, each kept
 * once (a carousel repeats its testimonials; the first, most relevant copy stays).
 */
export function fragmentsOf(passages: readonly WebsitePassage[], options: FragmentOptions = {}): Fragment[] {
  const company = companyNamePattern(options.companyName);
  const spokenByCustomer = (text: string) =>
    firstPersonSingular.test(text) || (company !== undefined && company.test(text) && firstPersonPlural.test(text) && !invitation.test(text));
  const seen = new Set<string>();
  const fragments: Fragment[] = [];
  const add = (passage: WebsitePassage, passageIndex: number, text: string, shape: FragmentShape, customerVoice: boolean) => {
    const key = normalizeForMatching(text);
    if (seen.has(key) || text.length > maximumQuoteLength || !/\p{L}{2}/u.test(text)) return;
    seen.add(key);
    fragments.push({ text, pageUrl: passage.pageUrl, heading: passage.heading.trim(), passageIndex, order: fragments.length, shape, customerVoice, words: wordsOf(text) });
  };
  passages.forEach((passage, passageIndex) => {
    const heading = passage.heading.trim().replace(leadingDecoration, '');
    if (heading) add(passage, passageIndex, heading, 'heading', false);
    const masked = blankMarkup(passage.text);
    for (const line of masked.matchAll(/[^\n]+/g)) {
      const texts = sentenceSpans(line[0]).map(([from, to]) => passage.text.slice(line.index + from, line.index + to));
      // A block quote or a line opening with a quotation mark is a testimonial, and so is the rest
      // of a paragraph in which a customer speaks ("Since implementing it, we've …").
      const lineStart = passage.text.lastIndexOf('\n', line.index) + 1;
      const quoted = /^\s*(>|["“])/.test(passage.text.slice(lineStart, line.index + line[0].length));
      const customerVoice = quoted || texts.some(spokenByCustomer);
      for (const text of texts) {
        const shape: FragmentShape = /[.!?]$/.test(text) || text.split(/\s+/).length >= 12 ? 'sentence' : 'line';
        add(passage, passageIndex, text, shape, customerVoice);
      }
    }
  });
  return fragments;
}

/** A pattern and what matching it adds to a fragment's score. */
export type Cue = readonly [pattern: RegExp, weight: number];

/** The sum of the weights of the cues the text matches. */
export function cueScore(text: string, cues: readonly Cue[]): number {
  let score = 0;
  for (const [pattern, weight] of cues) if (pattern.test(text)) score += weight;
  return score;
}

export interface RankOptions {
  /** How many to return at most. */
  limit: number;
  /** The lowest score a fragment may have and still be picked. Default: 1. */
  minimumScore?: number;
  /** Fragments already used elsewhere, never picked again. Default: none. */
  exclude?: ReadonlySet<Fragment>;
}

/**
 * The best fragments by `score`, ties in passage order; a fragment contained in one already picked
 * (or containing it) is skipped, so a heading and the sentence repeating it count once.
 */
export function rankFragments(fragments: readonly Fragment[], score: (fragment: Fragment) => number, options: RankOptions): Fragment[] {
  const minimum = options.minimumScore ?? 1;
  const scored = fragments
    .filter((fragment) => !options.exclude?.has(fragment))
    .map((fragment) => ({ fragment, score: score(fragment) }))
    .filter((entry) => entry.score >= minimum)
    .toSorted((left, right) => right.score - left.score || left.fragment.order - right.fragment.order);
  const picked: Fragment[] = [];
  const pickedTexts: string[] = [];
  for (const { fragment } of scored) {
    if (picked.length >= options.limit) break;
    const text = normalizeForMatching(fragment.text);
    if (pickedTexts.some((other) => other.includes(text) || text.includes(other))) continue;
    picked.push(fragment);
    pickedTexts.push(text);
  }
  return picked;
}

/** How many of `words` also occur in `other` (as a share of `words`, 0 when empty). */
export function overlapShare(words: readonly string[], other: readonly string[]): number {
  if (words.length === 0) return 0;
  const otherSet = new Set(other);
  return words.filter((word) => otherSet.has(word)).length / words.length;
}

/** Collects an asset's citations: one per quote, in the order they were first used, at most `maximumSources`. */
export class Citations {
  private readonly sources: AssetSource[] = [];

  /** Cites the fragment and returns its text, for use as a field value. */
  cite(fragment: Fragment): string {
    this.add({ url: fragment.pageUrl, quote: fragment.text });
    return fragment.text;
  }

  add(source: AssetSource): void {
    if (this.sources.length >= maximumSources) return;
    if (this.sources.some((existing) => existing.url === source.url && existing.quote === source.quote)) return;
    this.sources.push({ url: source.url, quote: source.quote });
  }

  /**
   * Cites a text carried over from a prerequisite asset: the fragment it was copied from when the
   * passages still hold it; else the prerequisite's own sources it is made of (a composed text) or
   * that contain it. Returns the text; it stays uncited when nothing matches.
   */
  carry(text: string, fragments: readonly Fragment[], inheritedSources: readonly AssetSource[]): string {
    const wanted = normalizeForMatching(text);
    const fragment = fragments.find((candidate) => normalizeForMatching(candidate.text) === wanted);
    if (fragment) return this.cite(fragment);
    const parts = inheritedSources.filter((source) => wanted.includes(normalizeForMatching(source.quote)));
    const containing = inheritedSources.filter((source) => normalizeForMatching(source.quote).includes(wanted));
    for (const source of parts.length > 0 ? parts : containing.slice(0, 1)) this.add(source);
    return text;
  }

  list(): AssetSource[] {
    return [...this.sources];
  }
}

/** The company name the website's address suggests: "blossomer.io" → "Blossomer". */
export function companyNameFromUrl(websiteUrl: string): string {
  let host = websiteUrl;
  try {
    host = new URL(/^[a-z]+:\/\//i.test(websiteUrl) ? websiteUrl : `https://${websiteUrl}`).hostname;
  } catch {
    // Not a URL: the text itself is the best name there is.
  }
  const label = host.replace(/^www\./, '').split('.')[0] ?? host;
  return label ? label.charAt(0).toUpperCase() + label.slice(1) : websiteUrl;
}

/** Cuts a text to at most `maximum` characters at a word boundary, marking the cut with "…". */
export function shorten(text: string, maximum: number): string {
  if (text.length <= maximum) return text;
  const cut = text.slice(0, maximum - 1);
  const boundary = cut.lastIndexOf(' ');
  return `${(boundary > maximum / 2 ? cut.slice(0, boundary) : cut).replace(/[\s,;:–—-]+$/, '')}…`;
}
