import { retrievalQueriesOf, type AssetKind, type WebsitePassage } from '../assets/index.js';

/** How well the website covers what a campaign needs, as content-service scores it. */
export interface WebsiteQuality {
  /** SUFFICIENT, PARTIAL, INSUFFICIENT or MISSING. */
  level: string;
  score: number;
  gaps: string[];
}

/** What generation reads about the website: its analysis and the passages of each search. */
export interface WebsiteContext {
  url: string;
  title: string | null;
  summary: string | null;
  /** When content-service last analysed the site; null when it never has. */
  analyzedAt: Date | null;
  quality: WebsiteQuality;
  /** Ranked passages per search query, best first. */
  searches: Record<string, WebsitePassage[]>;
}

/**
 * Where generation gets the website from. A request reads it from content-service with the
 * caller's token (`ContentClient`); a background run is handed the context its request gathered,
 * since a caller token lives a minute and a run may take longer.
 */
export interface WebsiteContextSource {
  /** The website's analysis and the passages of `queries`; analyses the website first when it never was. */
  load(websiteUrl: string, queries: readonly string[]): Promise<WebsiteContext>;
}

/** A context already gathered, served as it is (its searches must cover the queries asked). */
export function gatheredWebsiteContext(context: WebsiteContext): WebsiteContextSource {
  return {
    load: async () => context,
  };
}

/** A context as a job stores it (JSON): the analysis date as an ISO 8601 string. */
export type StoredWebsiteContext = Omit<WebsiteContext, 'analyzedAt'> & { analyzedAt: string | null };

export function storedWebsiteContext(context: WebsiteContext): StoredWebsiteContext {
  return { ...context, analyzedAt: context.analyzedAt?.toISOString() ?? null };
}

export function websiteContextFromStorage(stored: StoredWebsiteContext): WebsiteContext {
  return { ...stored, analyzedAt: stored.analyzedAt === null ? null : new Date(stored.analyzedAt) };
}

/** Every search the given kinds need, each once, in the kinds' order. */
export function retrievalQueriesFor(kinds: readonly AssetKind[]): string[] {
  return [...new Set(kinds.flatMap((kind) => retrievalQueriesOf(kind)))];
}

const passageKey = (passage: WebsitePassage) => `${passage.pageUrl}\u0000${passage.heading}\u0000${passage.text}`;

/** Each passage once: the assets of a campaign are given many of the same passages, and grounding reads every one. */
export function distinctPassages(passages: readonly WebsitePassage[]): WebsitePassage[] {
  const seen = new Set<string>();
  return passages.filter((passage) => {
    if (seen.has(passageKey(passage))) return false;
    seen.add(passageKey(passage));
    return true;
  });
}

/**
 * The passages one asset is given: its queries' results interleaved rank by rank (each query's
 * best, then each one's second …, queries in their order of importance), each passage once.
 * Scores are comparable only within one search, so ranks, not scores, decide the merge.
 */
export function passagesForKind(context: WebsiteContext, kind: AssetKind): WebsitePassage[] {
  const lists = retrievalQueriesOf(kind).map((query) => context.searches[query] ?? []);
  const seen = new Set<string>();
  const merged: WebsitePassage[] = [];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let rank = 0; rank < longest; rank += 1) {
    for (const list of lists) {
      const passage = list[rank];
      if (!passage || seen.has(passageKey(passage))) continue;
      seen.add(passageKey(passage));
      merged.push(passage);
    }
  }
  return merged;
}

/** content-service could not be asked (down, timed out, refused the token, answered garbage). */
export class ContentServiceError extends Error {
  override readonly name = 'ContentServiceError';
}

/** Why a website could not be analysed, in the terms of what the user can do about it. */
export type WebsiteProblem =
  /** The site did not answer or timed out: it may come back. */
  | 'UNREACHABLE'
  /** The address is refused (robots.txt, a private address) or did not give readable pages. */
  | 'UNREADABLE'
  /** Analysed, but it had no text to build on. */
  | 'EMPTY';

/** content-service answered, but the website itself could not be analysed. */
export class WebsiteAnalysisError extends Error {
  override readonly name = 'WebsiteAnalysisError';

  constructor(
    readonly problem: WebsiteProblem,
    message: string,
  ) {
    super(message);
  }
}

// Page words a title pairs with the name ("Home | Acme"), never a name themselves.
const genericTitleWords = /^(home|homepage|welcome|pricing|about( us)?|blog|contact( us)?|product|products|features|customers|careers|login|sign in)$/i;

/**
 * The company's name as a home page title usually carries it ("Northwind Ledger — the month-end
 * close on autopilot", "Home | Acme"): of the parts between separators, the shortest one of at
 * most four words that is not a page word. Null for a title without separators (a headline) or
 * without such a part; the product overview then names the company itself.
 */
export function companyNameFromTitle(title: string | null): string | null {
  const parts = (title ?? '')
    .split(/\s+[—–·-]\s+|\s*\|\s*|:\s+/)
    .map((part) => part.trim())
    .filter(Boolean);
  // A title without a separator is a headline, not a name.
  if (parts.length < 2) return null;
  const candidates = parts.filter((part) => part.split(/\s+/).length <= 4 && !genericTitleWords.test(part));
  return candidates.toSorted((left, right) => left.length - right.length)[0] ?? null;
}
