/** One column of a CSV file, as its header row names it. */
export interface CsvColumn {
  /** Position in the row, from 0. */
  index: number;
  /** The header cell as written (trimmed of surrounding whitespace and a stray byte-order mark). */
  header: string;
  /**
   * A stable key for the column: lower-case words joined by `_` ("Dealer Website URL" →
   * `dealer_website_url`, "companyName" → `company_name`), unique within the file (a repeated
   * name gets `_2`, `_3` …; an empty one becomes `column_<position from 1>`).
   */
  name: string;
}

/** Words of a header: camelCase and acronyms split, accents and punctuation dropped, lower-case. */
export function headerWords(header: string): string[] {
  return header
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** The columns a header row names, with unique stable keys. */
export function normaliseHeader(cells: readonly string[]): CsvColumn[] {
  const used = new Set<string>();
  return cells.map((cell, index) => {
    const header = cell.replace(/^\uFEFF/, '').trim();
    const base = headerWords(header).join('_') || `column_${index + 1}`;
    let name = base;
    for (let suffix = 2; used.has(name); suffix += 1) name = `${base}_${suffix}`;
    used.add(name);
    return { index, header, name };
  });
}
