export const csvDelimiters = [',', ';', '\t', '|'] as const;
export type CsvDelimiter = (typeof csvDelimiters)[number];

/**
 * Counts each candidate delimiter per record, outside quotes, over the first records of the text.
 * A quoted cell may hold line breaks, so records are split the way the parser will split them.
 */
function countsPerRecord(text: string, maximumRecords: number): Array<Record<CsvDelimiter, number>> {
  const records: Array<Record<CsvDelimiter, number>> = [];
  let counts: Record<CsvDelimiter, number> = { ',': 0, ';': 0, '\t': 0, '|': 0 };
  let inQuotes = false;
  let blank = true;
  for (let index = 0; index < text.length && records.length < maximumRecords; index += 1) {
    const character = text[index]!;
    if (character === '"') {
      inQuotes = !inQuotes;
      blank = false;
    } else if (!inQuotes && (character === '\n' || character === '\r')) {
      if (!blank) records.push(counts);
      counts = { ',': 0, ';': 0, '\t': 0, '|': 0 };
      blank = true;
    } else if (!inQuotes && character in counts) {
      counts[character as CsvDelimiter] += 1;
      blank = false;
    } else if (character !== ' ') {
      blank = false;
    }
  }
  // The text may end in the middle of a record (a sniffed prefix): count it only when it is the
  // only one.
  if (!blank && records.length === 0) records.push(counts);
  return records;
}

/**
 * The delimiter of a CSV text, from its first records: the candidate that appears in the header,
 * then the same number of times in most records (ties go to the one appearing more often, then to
 * the order comma, semicolon, tab, pipe). A single-column file has none of them: comma.
 */
export function detectDelimiter(text: string, options: { sampleRecords?: number } = {}): CsvDelimiter {
  const records = countsPerRecord(text, options.sampleRecords ?? 50);
  if (records.length === 0) return ',';
  const header = records[0]!;
  let best: { delimiter: CsvDelimiter; consistency: number; count: number } | null = null;
  for (const delimiter of csvDelimiters) {
    const headerCount = header[delimiter];
    if (headerCount === 0) continue;
    const rest = records.slice(1);
    // Share of data records splitting into as many cells as the header (a record with fewer, such
    // as a trailing blank, counts as half: exports often drop trailing empty cells).
    const consistency =
      rest.length === 0
        ? 1
        : rest.reduce((sum, record) => sum + (record[delimiter] === headerCount ? 1 : record[delimiter] > 0 ? 0.5 : 0), 0) / rest.length;
    const candidate = { delimiter, consistency, count: headerCount };
    if (!best || candidate.consistency > best.consistency + 1e-9 || (Math.abs(candidate.consistency - best.consistency) <= 1e-9 && candidate.count > best.count)) {
      best = candidate;
    }
  }
  return best?.delimiter ?? ',';
}
