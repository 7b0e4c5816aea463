// Text as the rest of the service sees it: one normal form, so that the same sentence written with
// a no-break space, a ligature or a zero-width joiner on one page compares equal to the plain one
// on the next, and word counts mean the same thing everywhere.

// Characters that render as nothing (soft hyphen, zero-width space/joiners, word joiner, BOM) and
// the replacement character a bad byte or entity (`&#0;`, a lone surrogate) decodes to.
const invisibleCharacters = /[\u00AD\u200B-\u200D\u2060\uFEFF\uFFFD]/g;
// C0 and C1 controls (C1 appears when Windows-1252 text is misread); tabs and line breaks among
// them become spaces like any other whitespace.
const controlCharacters = /\p{Cc}/gu;

/**
 * NFKC (full-width letters, ligatures and no-break spaces become their plain forms), invisible
 * and control characters dropped, every run of whitespace one space, trimmed.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').replace(invisibleCharacters, '').replace(controlCharacters, ' ').replace(/\s+/g, ' ').trim();
}

const wordPattern = /[\p{L}\p{N}][\p{L}\p{N}'’.-]*/gu;

/** Words of a text: runs of letters and digits (with inner apostrophes, dots and hyphens). */
export function wordsOf(text: string): string[] {
  return text.match(wordPattern) ?? [];
}

export function countWords(text: string): number {
  return text.match(wordPattern)?.length ?? 0;
}

/**
 * What two passages are compared by: lower case, letters and digits only. "Book a demo →" and
 * "book a demo" are the same passage; punctuation and icons do not make a block unique.
 */
export function comparisonKey(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

// Words after which a full stop does not end a sentence.
const abbreviations = new Set(['e.g', 'i.e', 'etc', 'vs', 'inc', 'ltd', 'co', 'corp', 'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'no', 'approx', 'jr', 'sr', 'u.s', 'u.k', 'fig', 'est']);
const sentenceEnd = /[.!?…]+["'”’)\]]*\s+(?=["'“‘([]?[\p{Lu}\p{N}])/gu;

/**
 * Sentences of a passage: split after `.`, `!`, `?` or `…` followed by a capital or a digit,
 * except after common abbreviations and single initials ("J. Smith"). Line breaks always end one.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const line of text.split(/\n+/)) {
    let start = 0;
    for (const match of line.matchAll(sentenceEnd)) {
      const end = match.index + match[0].length;
      const before = line.slice(start, match.index);
      const lastWord = before.slice(before.lastIndexOf(' ') + 1).toLowerCase();
      if (match[0].startsWith('.') && (abbreviations.has(lastWord.replace(/\.$/, '')) || /^\p{L}$/u.test(lastWord))) continue;
      const sentence = line.slice(start, end).trim();
      if (sentence) sentences.push(sentence);
      start = end;
    }
    const rest = line.slice(start).trim();
    if (rest) sentences.push(rest);
  }
  return sentences;
}
