import type { PageKind } from '../crawl/page-kind.js';
import type { ExtractedPage } from './page-extraction.js';
import { siteNameOf } from './site-identity.js';
import { comparisonKey, countWords, splitSentences, wordsOf } from './text-normalization.js';

export interface ExtractiveSummaryOptions {
  /** Most sentences in the summary. Default: 5. */
  maximumSentences?: number;
}

interface Candidate {
  text: string;
  /** Page order, then position within the page (the description before the text). */
  order: number;
  /** How much the sentence's place says it matters, before any reading of its words. */
  prior: number;
  /** False for a quotation or a sentence that leans on the one before; such sentences are chosen last. */
  standsAlone: boolean;
  vector: Map<string, number>;
}

// How much a sentence on each kind of page tells what a company does.
const kindWeights: Record<PageKind, number> = { HOME: 1.3, PRODUCT: 1.2, ABOUT: 1.1, PRICING: 0.9, CUSTOMERS: 0.9, OTHER: 0.7, BLOG: 0.5, CAREERS: 0.4 };
const stopWords = new Set(
  'a an and are as at be been but by can do does for from has have how i if in into is it its just more most no not of on or our out so than that the their them then there these they this to up us was we what when which who will with without you your yours all any also each every other over per very'.split(' '),
);
const boilerplate = /\bcookies?\b|\bnewsletter\b|\ball rights reserved\b|\bprivacy policy\b/i;
const quoted = /^["“„'‘«]/;
const leansOnContext = /^(this|that|these|those|they|it|its|he|she|his|her|which|but|and|also|however|so|then|there)\b/i;
const maximumCandidates = 400;
const damping = 0.85;
const iterations = 40;

/** Content words, lower case, plural `s` cut (good enough to match "teams" with "team"). */
function termsOf(text: string): string[] {
  return wordsOf(text.toLowerCase())
    .map((word) => word.replace(/['’]s$/, ''))
    .filter((word) => word.length > 1 && !stopWords.has(word))
    .map((word) => (word.length > 4 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word));
}

/** A sentence worth considering: a statement of 6 to 60 words, not a question, a label or a timestamp list. */
function isInformative(sentence: string): boolean {
  const words = wordsOf(sentence);
  if (words.length < 6 || words.length > 60 || sentence.endsWith('?') || boilerplate.test(sentence)) return false;
  const numeric = words.filter((word) => /^\d[\d:.,]*$/.test(word)).length;
  return numeric / words.length <= 0.25;
}

function candidatesOf(pages: readonly ExtractedPage[], siteName: string): Candidate[] {
  const candidates: Omit<Candidate, 'vector'>[] = [];
  const nameKey = comparisonKey(siteName);
  const add = (text: string, order: number, prior: number, inQuotation = false) => {
    if (candidates.length >= maximumCandidates || !isInformative(text)) return;
    // Naming the company is what a summary sentence usually does; a customer's quote or a
    // sentence that leans on the one before ("This limits …") reads badly on its own.
    const namesCompany = nameKey.length > 0 && comparisonKey(text).includes(nameKey);
    const standsAlone = !inQuotation && !quoted.test(text) && !leansOnContext.test(text);
    candidates.push({ text, order, prior: prior * (namesCompany ? 1.3 : 1), standsAlone });
  };
  pages.forEach((page, pageIndex) => {
    const kindWeight = kindWeights[page.kind];
    const base = pageIndex * 100_000;
    const description = page.description ?? page.openGraph['description'];
    // The description is the site's own summary of the page; on the home page, of the company.
    if (description) for (const sentence of splitSentences(description)) add(sentence, base, kindWeight * (page.kind === 'HOME' ? 3 : 1.5));
    let position = 1;
    page.sections.forEach((section, sectionIndex) => {
      // The hero (the home page's first sections) says what the company is; later text details it.
      const placeWeight = (page.kind === 'HOME' && sectionIndex < 2 ? 2 : 1) / (1 + 0.05 * sectionIndex);
      for (const block of section.blocks) {
        const blockWeight = block.kind === 'list-item' ? 0.6 : 1;
        const inQuotation = block.kind === 'quote' || quoted.test(block.text);
        for (const sentence of splitSentences(block.text)) add(sentence, base + position++, kindWeight * placeWeight * blockWeight, inQuotation);
      }
    });
  });
  // TF-IDF vectors, normalised, so that a dot product is the cosine similarity.
  const termLists = candidates.map((candidate) => termsOf(candidate.text));
  const documentFrequency = new Map<string, number>();
  for (const terms of termLists) for (const term of new Set(terms)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  return candidates.map((candidate, index) => {
    const vector = new Map<string, number>();
    for (const term of termLists[index]!) vector.set(term, (vector.get(term) ?? 0) + 1);
    let norm = 0;
    for (const [term, frequency] of vector) {
      const weight = frequency * (Math.log((candidates.length + 1) / ((documentFrequency.get(term) ?? 0) + 1)) + 1);
      vector.set(term, weight);
      norm += weight * weight;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [term, weight] of vector) vector.set(term, weight / norm);
    return { ...candidate, vector };
  });
}

function cosine(first: Map<string, number>, second: Map<string, number>): number {
  const [smaller, larger] = first.size <= second.size ? [first, second] : [second, first];
  let sum = 0;
  for (const [term, weight] of smaller) sum += weight * (larger.get(term) ?? 0);
  return sum;
}

/**
 * Centrality by biased PageRank over sentence similarity (TextRank / LexRank): a sentence that
 * says what many others say is central; the teleport vector is each sentence's prior, so the
 * site's own descriptions and the hero are favoured without drowning the rest.
 */
function centrality(candidates: readonly Candidate[]): number[] {
  const count = candidates.length;
  const edges: Array<Array<{ to: number; weight: number }>> = candidates.map(() => []);
  const outWeight = Array.from<number>({ length: count }).fill(0);
  for (let first = 0; first < count; first += 1) {
    for (let second = first + 1; second < count; second += 1) {
      const similarity = cosine(candidates[first]!.vector, candidates[second]!.vector);
      if (similarity < 0.05) continue;
      edges[first]!.push({ to: second, weight: similarity });
      edges[second]!.push({ to: first, weight: similarity });
      outWeight[first]! += similarity;
      outWeight[second]! += similarity;
    }
  }
  const priorTotal = candidates.reduce((sum, candidate) => sum + candidate.prior, 0) || 1;
  const teleport = candidates.map((candidate) => candidate.prior / priorTotal);
  let rank = [...teleport];
  for (let iteration = 0; iteration < iterations; iteration += 1) {
    const next = teleport.map((value) => (1 - damping) * value);
    let dangling = 0;
    for (let from = 0; from < count; from += 1) {
      if (outWeight[from] === 0) {
        dangling += rank[from]!;
        continue;
      }
      for (const { to, weight } of edges[from]!) next[to]! += (damping * rank[from]! * weight) / outWeight[from]!;
    }
    // A sentence like no other passes its rank on by the prior, as if it teleported.
    for (let index = 0; index < count; index += 1) next[index]! += damping * dangling * teleport[index]!;
    rank = next;
  }
  return rank;
}

const withFullStop = (sentence: string) => (/[.!?…"”’)]$/.test(sentence) ? sentence : `${sentence}.`);

/**
 * A short summary of a site made only of its own sentences, no model: the most central and
 * informative sentences (biased TextRank over TF-IDF similarity), favouring the home page's meta
 * description and hero, without near-duplicates, in the order the site says them.
 */
export function extractiveSummary(pages: readonly ExtractedPage[], options: ExtractiveSummaryOptions = {}): string {
  const maximumSentences = options.maximumSentences ?? 5;
  const candidates = candidatesOf(pages, siteNameOf(pages));
  if (candidates.length === 0 || maximumSentences <= 0) return '';
  const rank = centrality(candidates);
  // Longer sentences carry more; a six-word slogan needs more centrality to be chosen.
  const scored = candidates.map((candidate, index) => ({ candidate, score: rank[index]! * Math.min(1, countWords(candidate.text) / 14) * (candidate.standsAlone ? 1 : 0.3) }));
  const chosen: Candidate[] = [];
  for (const { candidate } of scored.toSorted((first, second) => second.score - first.score)) {
    if (chosen.length >= maximumSentences) break;
    const key = comparisonKey(candidate.text);
    const repeats = chosen.some((other) => cosine(other.vector, candidate.vector) > 0.5 || comparisonKey(other.text).includes(key) || key.includes(comparisonKey(other.text)));
    if (!repeats) chosen.push(candidate);
  }
  return chosen
    .toSorted((first, second) => first.order - second.order)
    .map((candidate) => withFullStop(candidate.text))
    .join(' ');
}
