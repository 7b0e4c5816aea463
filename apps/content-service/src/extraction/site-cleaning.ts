import type { ExtractedPage } from './page-extraction.js';
import { composeSection, contentWordCount, type PageSection } from './page-section.js';
import { comparisonKey, countWords } from './text-normalization.js';

export interface RepeatedBlockOptions {
  /** Share of the pages a block must appear on to be site chrome (a footer line, a sign-up box). Default: 0.6. */
  minimumShare?: number;
  /** Fewest pages a block must appear on to be site chrome; two pages may share a paragraph on purpose. Default: 3. */
  minimumPages?: number;
}

// Boilerplate that is recognisable on a single page: consent banners, newsletter boxes, copyright
// lines, skip links. Checked on short blocks only, so a privacy policy's paragraphs stay.
const boilerplatePatterns = [
  /\b(we|this (web)?site|our (web)?site) uses? cookies\b|\bcookie (policy|settings|preferences)\b|\baccept (all )?cookies\b|\bby (continuing|using) (to (use|browse) )?(this|our) (site|website)\b/i,
  /\b(subscribe to|sign up (for|to)|join) (our|the)\b.{0,40}\bnewsletter\b|\bunsubscribe (at )?any ?time\b/i,
  /^(©|\(c\)|copyright\b)|©\s*\d{4}|\ball rights reserved\b/i,
  /^skip to (main )?content$/i,
];
const boilerplateMaximumWords = 50;

/** Counts each key once, however often the page repeats it. */
function countOnce(counts: Map<string, number>, keys: Iterable<string>): void {
  for (const key of new Set(keys)) counts.set(key, (counts.get(key) ?? 0) + 1);
}

function isBoilerplateText(text: string): boolean {
  return countWords(text) <= boilerplateMaximumWords && boilerplatePatterns.some((pattern) => pattern.test(text));
}

/**
 * Removes what is not a page's own content once the whole site is known: blocks (paragraphs,
 * list items) and headings that appear on most pages (the footer, the sign-up box, the nav a
 * page builder wrote as plain divs), text that is boilerplate on any page (cookie banners,
 * newsletter boxes, copyright lines), and passages said again later on the same or another page
 * (only the first occurrence, in page order, is kept). Sections left empty are dropped and word
 * counts recomputed. Pure: returns new pages in the same order.
 */
export function removeRepeatedBlocks(pages: readonly ExtractedPage[], options: RepeatedBlockOptions = {}): ExtractedPage[] {
  const minimumShare = options.minimumShare ?? 0.6;
  const minimumPages = options.minimumPages ?? 3;
  const threshold = Math.max(minimumPages, Math.ceil(minimumShare * pages.length));

  // On how many pages each block and heading appears (a page counts once however often it repeats one).
  const blockPages = new Map<string, number>();
  const headingPages = new Map<string, number>();
  for (const page of pages) {
    countOnce(blockPages, page.sections.flatMap((section) => section.blocks.map((block) => comparisonKey(block.text))));
    countOnce(headingPages, page.headings.map((heading) => comparisonKey(heading.text)));
  }
  const isChrome = (counts: Map<string, number>, key: string) => (counts.get(key) ?? 0) >= threshold;

  const seen = new Set<string>();
  return pages.map((page) => {
    const sections: PageSection[] = [];
    for (const section of page.sections) {
      const blocks = section.blocks.filter((block) => {
        const key = comparisonKey(block.text);
        if (!key || seen.has(key) || isChrome(blockPages, key) || isBoilerplateText(block.text)) return false;
        seen.add(key);
        return true;
      });
      if (blocks.length > 0) sections.push(composeSection(section.headingPath, blocks));
    }
    // A heading repeated across pages ("How it works") stays while it still heads content.
    const headingsInUse = new Set(sections.flatMap((section) => section.headingPath.map(comparisonKey)));
    const headings = page.headings.filter((heading) => {
      const key = comparisonKey(heading.text);
      return headingsInUse.has(key) || (!isChrome(headingPages, key) && !isBoilerplateText(heading.text));
    });
    return { ...page, headings, sections, wordCount: contentWordCount(headings, sections) };
  });
}
