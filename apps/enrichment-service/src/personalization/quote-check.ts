import type { WebsitePassage } from '../website-analysis/website-analysis.client.js';

/** Case, whitespace, curly quotes, dashes and markdown emphasis aside: the text a reader sees. */
export function normalizeQuoteText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[‘’‛′]/g, "'")
    .replace(/[“”„″]/g, '"')
    .replace(/[‐‑‒–—―]/g, '-')
    .replace(/\*\*|__|[*_`#>]/g, ' ')
    .replace(/…/g, '...')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The passage that contains the quote, or null. A quote may leave words out with "..." (its pieces
 * must then appear in order); it may not paraphrase. The page is the passage's own, whatever page the
 * quote claimed, so a source always points where its words are.
 */
export function findQuote(quote: string, passages: readonly WebsitePassage[]): WebsitePassage | null {
  const pieces = normalizeQuoteText(quote)
    .replace(/^["']|["']$/g, '')
    .split(/\s*\.\.\.\s*/)
    .map((piece) => piece.trim())
    .filter((piece) => piece.length > 0);
  if (pieces.length === 0 || pieces.join(' ').length < 8) return null;
  for (const passage of passages) {
    const text = normalizeQuoteText(`${passage.heading}\n${passage.text}`);
    let from = 0;
    const found = pieces.every((piece) => {
      const at = text.indexOf(piece, from);
      if (at < 0) return false;
      from = at + piece.length;
      return true;
    });
    if (found) return passage;
  }
  return null;
}

// Words a full stop follows without ending the sentence: legal forms, titles, street words, initials.
const abbreviation = /(?:^|[\s(.])(?:inc|co|corp|ltd|llc|bros|mr|mrs|ms|dr|st|ave|blvd|rd|hwy|no|vs|etc|e\.g|i\.e|[a-z])$/i;

/** Sentences of a text: each ends at `.`, `!` or `?` followed by a space or the end, abbreviations aside. */
export function sentencesOf(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const boundary of text.matchAll(/([.!?])+["'”’)]*(?=\s|$)/g)) {
    const end = boundary.index + boundary[0].length;
    // "Broadway Auto Brokers Inc. opened in 1987" is one sentence; "J. D. Sanders" too.
    if (boundary[1] === '.' && abbreviation.test(text.slice(start, boundary.index))) continue;
    sentences.push(text.slice(start, end).trim());
    start = end;
  }
  sentences.push(text.slice(start).trim());
  return sentences.filter((sentence) => sentence.length > 1);
}
