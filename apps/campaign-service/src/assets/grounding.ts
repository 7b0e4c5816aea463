import type { WebsitePassage } from './asset-context.js';
import { AssetKind, transitivePrerequisitesOf } from './asset-kind.js';
import { notStated, type AssetSource } from './asset-schemas.js';
import { contentWordsOf, normalizeForMatching, stemOf } from './passage-extraction.js';

// A generated asset is only as good as its citations: a quote the website does not contain is
// either a paraphrase or an invention. These checks are deterministic and cheap, so every asset,
// model-made or offline, goes through them before it is stored.

/** A quote found on the website, but in a passage of another page than the one it names. */
export interface MisattributedSource {
  source: AssetSource;
  /** The page whose passage does contain the quote. */
  foundAt: string;
}

/** A claim field whose words no single passage shares enough of. */
export interface UnsupportedClaim {
  /** Where the claim is, e.g. `keyFeatures[2]` (the form `setFieldAtPath` takes). */
  fieldPath: string;
  text: string;
}

export interface GroundingReport {
  /** Quotes found in a passage of the page they name. */
  supported: AssetSource[];
  /** Quotes found in a passage of another page. */
  misattributed: MisattributedSource[];
  /** Quotes no passage contains. */
  unsupported: AssetSource[];
  /** Claims of the asset's kind no passage supports; empty unless `checkGrounding` was given a kind. */
  unsupportedClaims: UnsupportedClaim[];
  /** How many claims were checked (0 without a kind). */
  checkedClaims: number;
}

/** Markdown around words (images, link targets, emphasis, markers), removed the way a reader sees the text. */
function plainText(text: string): string {
  return text
    .replace(/!\[[^\]\n]*\]\([^)\n]*\)/g, ' ')
    .replace(/\]\([^)\s]*\)/g, ' ')
    .replace(/\*\*|__|\\|[[\]]/g, ' ')
    .replace(/^[ \t]*(?:#{1,6}|[-*+>]|\d{1,2}[.)])[ \t]+/gm, ' ');
}

/** A passage as quotes are looked up in: raw and as read, both normalised. */
interface SearchablePassage {
  url: string;
  texts: string[];
}

function searchable(passages: readonly WebsitePassage[]): SearchablePassage[] {
  return passages.map((passage) => {
    const whole = `${passage.heading}\n${passage.text}`;
    return { url: passage.pageUrl, texts: [normalizeForMatching(whole), normalizeForMatching(plainText(whole))] };
  });
}

/** A page's address with scheme, `www.`, case, trailing slash and fragment set aside. */
const pageKey = (url: string) =>
  url
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/^www\./, '')
    .replace(/#.*$/, '')
    .replace(/\/+$/, '');

const samePage = (left: string, right: string) => pageKey(left) === pageKey(right);

/**
 * Whether the passage contains the quote. A quote may leave words out with "..." or "…": its
 * pieces must then appear in order. Whitespace, case, curly quotes, dashes and markdown differ freely.
 */
function contains(passage: SearchablePassage, quote: string): boolean {
  const pieces = normalizeForMatching(plainText(quote))
    .split(/\s*\.\.\.\s*/)
    .map((piece) => piece.trim())
    .filter((piece) => piece.length > 0);
  if (pieces.length === 0) return false;
  return passage.texts.some((text) => {
    let from = 0;
    for (const piece of pieces) {
      const at = text.indexOf(piece, from);
      if (at < 0) return false;
      from = at + piece.length;
    }
    return true;
  });
}

// The fields that state facts about the company, per kind: what the website must support. Other
// fields are reasoning built on them (signals, personas, emails) and are not checked word by word.
const claimFields: Record<AssetKind, readonly string[]> = {
  [AssetKind.PRODUCT_OVERVIEW]: ['keyFeatures[]', 'useCases[]', 'painPoints[]', 'customerProfiles[]', 'differentiators[]'],
  [AssetKind.TARGET_COMPANY]: ['firmographics.industries[]', 'firmographics.geographies[]', 'disqualifiers[]'],
  [AssetKind.TARGET_PERSONA]: ['goals[]', 'objections[]'],
  [AssetKind.POSITIONING]: ['differentiators[]', 'valuePropositions[].evidence'],
  [AssetKind.EMAIL_SEQUENCE]: [],
};

/** The claim fields of a kind, `[]` standing for every item of a list. */
export function claimFieldsOf(kind: AssetKind): readonly string[] {
  return claimFields[kind];
}

/** Every value at a `a.b[].c` pattern, with its concrete path (`a.b[3].c`). */
function valuesAt(value: unknown, pattern: string): Array<{ fieldPath: string; value: unknown }> {
  let current: Array<{ fieldPath: string; value: unknown }> = [{ fieldPath: '', value }];
  for (const segment of pattern.split('.')) {
    const isList = segment.endsWith('[]');
    const key = isList ? segment.slice(0, -2) : segment;
    current = current.flatMap(({ fieldPath, value: parent }) => {
      if (typeof parent !== 'object' || parent === null) return [];
      const child = (parent as Record<string, unknown>)[key];
      const childPath = fieldPath ? `${fieldPath}.${key}` : key;
      if (!isList) return [{ fieldPath: childPath, value: child }];
      return Array.isArray(child) ? child.map((item, index) => ({ fieldPath: `${childPath}[${index}]`, value: item })) : [];
    });
  }
  return current;
}

export interface GroundingOptions {
  /** The asset's kind: its claim fields are checked too (see `claimFieldsOf`). Default: quotes only. */
  kind?: AssetKind;
  /** Share of a claim's words one passage must contain for the claim to count as supported. Default: 0.5. */
  minimumClaimOverlap?: number;
}

/** Which of an asset's quotes the passages contain (and, given a kind, which claims they support). */
export function checkGrounding(asset: { sources: readonly AssetSource[] }, passages: readonly WebsitePassage[], options: GroundingOptions = {}): GroundingReport {
  const pages = searchable(passages);
  const report: GroundingReport = { supported: [], misattributed: [], unsupported: [], unsupportedClaims: [], checkedClaims: 0 };
  for (const source of asset.sources) {
    const found = pages.filter((page) => contains(page, source.quote));
    if (found.some((page) => samePage(page.url, source.url))) report.supported.push(source);
    else if (found[0]) report.misattributed.push({ source, foundAt: found[0].url });
    else report.unsupported.push(source);
  }
  if (options.kind) {
    const minimum = options.minimumClaimOverlap ?? 0.5;
    const passageStems = passages.map((passage) => new Set(contentWordsOf(plainText(`${passage.heading}\n${passage.text}`)).map(stemOf)));
    for (const pattern of claimFields[options.kind]) {
      for (const { fieldPath, value } of valuesAt(asset, pattern)) {
        if (typeof value !== 'string' || value === notStated) continue;
        report.checkedClaims += 1;
        const stems = [...new Set(contentWordsOf(value).map(stemOf))];
        const supported = stems.length === 0 || passageStems.some((words) => stems.filter((stem) => words.has(stem)).length / stems.length >= minimum);
        if (!supported) report.unsupportedClaims.push({ fieldPath, text: value });
      }
    }
  }
  return report;
}

export interface ConfidenceOptions {
  /** Used when the provider reports none (language models do not). Default: 0.8. */
  modelConfidence?: number;
  /** What an asset with no sources keeps of its confidence. Default: 0.5. */
  noSourcesFactor?: number;
}

/**
 * The confidence to store with an asset: the provider's (offline 0.3, a model `modelConfidence`)
 * scaled by how well the website backs it. Each unsupported quote takes away up to half of it in
 * proportion (all quotes unsupported: half left); an asset citing nothing keeps `noSourcesFactor`;
 * unsupported claims take away up to a further half. A misattributed quote still counts as found.
 */
export function groundedConfidence(baseConfidence: number | undefined, report: GroundingReport, options: ConfidenceOptions = {}): number {
  const base = baseConfidence ?? options.modelConfidence ?? 0.8;
  const total = report.supported.length + report.misattributed.length + report.unsupported.length;
  let confidence = total === 0 ? base * (options.noSourcesFactor ?? 0.5) : base * (0.5 + (0.5 * (total - report.unsupported.length)) / total);
  if (report.checkedClaims > 0) confidence *= 1 - (0.5 * report.unsupportedClaims.length) / report.checkedClaims;
  return Math.round(Math.min(1, Math.max(0, confidence)) * 1000) / 1000;
}

const sourceKey = (source: AssetSource) => `${source.url}\u0000${source.quote}`;

/** The asset with only the quotes the website contains, misattributed ones pointed at the page that has them. Not mutated. */
export function dropUnsupportedSources<Value extends { sources: readonly AssetSource[] }>(asset: Value, report: GroundingReport): Value {
  const unsupported = new Set(report.unsupported.map(sourceKey));
  const moved = new Map(report.misattributed.map((entry) => [sourceKey(entry.source), entry.foundAt]));
  const sources = asset.sources
    .filter((source) => !unsupported.has(sourceKey(source)))
    .map((source) => ({ url: moved.get(sourceKey(source)) ?? source.url, quote: source.quote }));
  return { ...asset, sources };
}

/** What the grounding check found, as a version keeps it. */
export interface GroundingSummary {
  supportedQuotes: number;
  /** Quotes found on another page than they named; re-pointed at that page. */
  misattributedQuotes: number;
  /** Quotes no passage contains; dropped from `sources`. */
  unsupportedQuotes: AssetSource[];
  checkedClaims: number;
  unsupportedClaims: Array<{ fieldPath: string; text: string }>;
}

export function groundingSummary(report: GroundingReport): GroundingSummary {
  return {
    supportedQuotes: report.supported.length,
    misattributedQuotes: report.misattributed.length,
    unsupportedQuotes: report.unsupported,
    checkedClaims: report.checkedClaims,
    unsupportedClaims: report.unsupportedClaims,
  };
}

/** What the user should know about an asset's grounding. */
export function groundingWarnings(report: GroundingReport): string[] {
  const warnings: string[] = [];
  if (report.unsupported.length > 0) warnings.push(`${report.unsupported.length} quoted source(s) are not on the website and were dropped.`);
  if (report.supported.length + report.misattributed.length + report.unsupported.length === 0) warnings.push('It cites no passage of the website.');
  if (report.unsupportedClaims.length > 0) {
    warnings.push(`No passage of the website supports: ${report.unsupportedClaims.map((claim) => claim.fieldPath).join(', ')}.`);
  }
  return warnings;
}

/**
 * The passages the assets this kind is built on (directly or not) were given. Quotes are checked
 * against them too: an asset may carry a prerequisite's citation (the offline answers do), and
 * that quote was found on the website even when this asset's own searches did not return it.
 */
export function inheritedPassages(kind: AssetKind, passagesByKind: ReadonlyMap<AssetKind, readonly WebsitePassage[]>): WebsitePassage[] {
  return transitivePrerequisitesOf(kind).flatMap((prerequisite) => passagesByKind.get(prerequisite) ?? []);
}
