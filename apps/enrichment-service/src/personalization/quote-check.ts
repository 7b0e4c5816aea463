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

/** Sentences of a text: ends at `.`, `!` or `?` followed by a space or the end. */
export function sentencesOf(text: string): string[] {
  return (text.match(/[^.!?]+(?:[.!?]+["'”’)]*|$)/g) ?? []).map((sentence) => sentence.trim()).filter((sentence) => sentence.length > 1);
}
