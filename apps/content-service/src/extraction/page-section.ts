import { countWords } from './text-normalization.js';

/** One paragraph, list item or quotation of a page's main content, whitespace-normalised. */
export interface PageBlock {
  kind: 'paragraph' | 'list-item' | 'quote';
  text: string;
  /** For a list item: which of its section's `lists` it belongs to. */
  list?: number;
}

/** The main content between one heading and the next. */
export interface PageSection {
  /** The headings this section sits under, outermost first; its own heading last. Empty before the first heading. */
  headingPath: string[];
  /** The whole section as plain text: one block per line, list items as `- item`. */
  text: string;
  /** The section's list items grouped by list, in order (the same items are in `text`). */
  lists: string[][];
  /** What `text` and `lists` are made of, in order; site cleaning removes blocks and recomposes. */
  blocks: PageBlock[];
}

/** Builds a section from its blocks, numbering its lists from 0 in order of appearance. */
export function composeSection(headingPath: string[], blocks: PageBlock[]): PageSection {
  const lists: string[][] = [];
  const listNumbers = new Map<number, number>();
  const numbered = blocks.map((block) => {
    if (block.kind !== 'list-item') return block;
    let list = listNumbers.get(block.list ?? -1);
    if (list === undefined) {
      list = lists.length;
      listNumbers.set(block.list ?? -1, list);
      lists.push([]);
    }
    lists[list]!.push(block.text);
    return { ...block, list };
  });
  const text = numbered.map((block) => (block.kind === 'list-item' ? `- ${block.text}` : block.text)).join('\n');
  return { headingPath, text, lists, blocks: numbered };
}

/** Words of a page's main content: its headings and its sections' blocks. */
export function contentWordCount(headings: ReadonlyArray<{ text: string }>, sections: readonly PageSection[]): number {
  let words = 0;
  for (const heading of headings) words += countWords(heading.text);
  for (const section of sections) for (const block of section.blocks) words += countWords(block.text);
  return words;
}
