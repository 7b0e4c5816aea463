import type { ExtractedPage } from './page-extraction.js';
import { composeSection, type PageSection } from './page-section.js';
import { comparisonKey, countWords, splitSentences } from './text-normalization.js';

/** A passage of one page, ready to be stored and searched. */
export interface ContentChunkDraft {
  pageUrl: string;
  /** The headings the passage sits under, outermost first (common to all of it when sections were merged). */
  headingPath: string[];
  /** The innermost heading, or the page title when the passage sits under none. */
  heading: string;
  /** Lines of text; sub-headings of merged sections appear as their own lines before their text. */
  text: string;
  /** Order of the passage within its page, from 0. */
  position: number;
  /** About four characters a token, the usual ratio for English with current tokenizers. */
  tokenEstimate: number;
}

export interface ChunkingOptions {
  /** Most words in one chunk: longer sections are split at paragraph, then sentence, then word boundaries. Default: 220. */
  maximumWords?: number;
  /** A section shorter than this is merged with its neighbours under the same heading. Default: 40. */
  minimumWords?: number;
  /**
   * Whether a page's meta description leads its chunks when the page text does not say it
   * already (landing pages often state what the company does only there). A description shared
   * by several pages is used once. Default: true.
   */
  includeDescription?: boolean;
}

interface Line {
  text: string;
  words: number;
}

/** Sections that follow each other and are read as one chunk. */
interface Group {
  members: Array<{ headingPath: string[]; lines: Line[] }>;
  words: number;
}

const wordsOf = (lines: readonly Line[]) => lines.reduce((sum, line) => sum + line.words, 0);

function commonPrefix(first: readonly string[], second: readonly string[]): string[] {
  let length = 0;
  while (length < first.length && length < second.length && first[length] === second[length]) length += 1;
  return first.slice(0, length);
}

/** One path heads the other, or both are siblings under the same parent heading (or under none). */
function underSameHeading(first: readonly string[], second: readonly string[]): boolean {
  const shared = commonPrefix(first, second).length;
  return shared === Math.min(first.length, second.length) || (first.length === second.length && shared === first.length - 1);
}

function linesOf(section: PageSection): Line[] {
  return section.blocks.map((block) => {
    const text = block.kind === 'list-item' ? `- ${block.text}` : block.text;
    return { text, words: countWords(text) };
  });
}

/** The group as one list of lines under the headings all its sections share. */
function flatten(group: Group): { headingPath: string[]; lines: Line[] } {
  const headingPath = group.members.map((member) => member.headingPath).reduce((shared, path) => commonPrefix(shared, path));
  const lines: Line[] = [];
  for (const member of group.members) {
    // A merged section keeps its own heading, as a line before its text.
    const ownHeadings = member.headingPath.slice(headingPath.length);
    if (ownHeadings.length > 0) {
      const heading = ownHeadings.join(' > ');
      lines.push({ text: heading, words: countWords(heading) });
    }
    lines.push(...member.lines);
  }
  return { headingPath, lines };
}

/** Lines no longer than `maximumWords`: a long paragraph is cut into sentences, a long sentence into word runs. */
function boundedLines(lines: readonly Line[], maximumWords: number): Line[] {
  const bounded: Line[] = [];
  for (const line of lines) {
    if (line.words <= maximumWords) {
      bounded.push(line);
      continue;
    }
    for (const sentence of splitSentences(line.text)) {
      const words = sentence.split(' ');
      for (let start = 0; start < words.length; start += maximumWords) {
        const text = words.slice(start, start + maximumWords).join(' ');
        bounded.push({ text, words: countWords(text) });
      }
    }
  }
  return bounded;
}

/**
 * Packs lines into as few chunks as `maximumWords` allows and, among those, the most even ones
 * (seven paragraphs of 68 words become chunks of 136, 136 and 204 words rather than 204, 204 and
 * 68), keeping lines whole and in order. A small dynamic programme: for each prefix of the lines,
 * the fewest chunks and then the least sum of squared chunk sizes; only cuts within `maximumWords`
 * of each other count. (Merged groups always fit in one chunk, so no cut lands after a sub-heading.)
 */
function pack(lines: readonly Line[], maximumWords: number): string[] {
  const count = lines.length;
  const prefix = [0];
  for (const line of lines) prefix.push(prefix.at(-1)! + line.words);
  const chunksBefore = Array.from<number>({ length: count + 1 }).fill(Number.POSITIVE_INFINITY);
  const costBefore = Array.from<number>({ length: count + 1 }).fill(Number.POSITIVE_INFINITY);
  const cutBefore = Array.from<number>({ length: count + 1 }).fill(0);
  chunksBefore[0] = 0;
  costBefore[0] = 0;
  for (let end = 1; end <= count; end += 1) {
    // A line alone always fits: boundedLines made every line at most maximumWords long.
    for (let start = end - 1; start >= 0 && (start === end - 1 || prefix[end]! - prefix[start]! <= maximumWords); start -= 1) {
      const size = prefix[end]! - prefix[start]!;
      const chunks = chunksBefore[start]! + 1;
      const cost = costBefore[start]! + size * size;
      if (chunks < chunksBefore[end]! || (chunks === chunksBefore[end]! && cost < costBefore[end]!)) {
        chunksBefore[end] = chunks;
        costBefore[end] = cost;
        cutBefore[end] = start;
      }
    }
  }
  const chunks: string[] = [];
  for (let end = count; end > 0; end = cutBefore[end]!) chunks.unshift(lines.slice(cutBefore[end]!, end).map((line) => line.text).join('\n'));
  return chunks;
}

/** Consecutive sections, merged while small and under the same heading, never past `maximumWords`. */
function groupSections(sections: readonly PageSection[], maximumWords: number, minimumWords: number): Group[] {
  const groups: Group[] = [];
  for (const section of sections) {
    const lines = linesOf(section);
    const words = wordsOf(lines);
    if (words === 0) continue;
    const previous = groups.at(-1);
    const previousPath = previous?.members.at(-1)?.headingPath;
    if (previous && previousPath && (previous.words < minimumWords || words < minimumWords) && previous.words + words <= maximumWords && underSameHeading(previousPath, section.headingPath)) {
      previous.members.push({ headingPath: section.headingPath, lines });
      previous.words += words;
    } else {
      groups.push({ members: [{ headingPath: section.headingPath, lines }], words });
    }
  }
  return groups;
}

/**
 * Cuts pages into passages for search: by section, long sections split at paragraph and then
 * sentence boundaries, small neighbouring sections under the same heading merged. A chunk never
 * mixes pages; positions count from 0 within each page.
 */
export function chunkPages(pages: readonly ExtractedPage[], options: ChunkingOptions = {}): ContentChunkDraft[] {
  const maximumWords = Math.max(1, options.maximumWords ?? 220);
  const minimumWords = Math.min(options.minimumWords ?? 40, maximumWords);
  const includeDescription = options.includeDescription ?? true;
  const usedDescriptions = new Set<string>();
  const chunks: ContentChunkDraft[] = [];
  for (const page of pages) {
    let position = 0;
    const add = (headingPath: string[], text: string) => {
      chunks.push({ pageUrl: page.url, headingPath, heading: headingPath.at(-1) ?? page.title ?? '', text, position: position++, tokenEstimate: Math.ceil(text.length / 4) });
    };
    let sections = page.sections;
    const descriptionKey = page.description ? comparisonKey(page.description) : '';
    if (includeDescription && page.description && descriptionKey && !usedDescriptions.has(descriptionKey)) {
      usedDescriptions.add(descriptionKey);
      const pageKey = comparisonKey(page.sections.map((section) => section.text).join(' '));
      // Read as an introduction above every heading, so it joins the first section when that is small.
      if (!pageKey.includes(descriptionKey)) sections = [composeSection([], [{ kind: 'paragraph', text: page.description }]), ...sections];
    }
    for (const group of groupSections(sections, maximumWords, minimumWords)) {
      const { headingPath, lines } = flatten(group);
      for (const text of pack(boundedLines(lines, maximumWords), maximumWords)) add(headingPath, text);
    }
  }
  return chunks;
}
