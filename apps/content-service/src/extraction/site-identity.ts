import type { ExtractedPage } from './page-extraction.js';
import { normalizeText } from './text-normalization.js';

const squeeze = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/** The registrable-looking label of a host: `www.northwind-ledger.co.uk` → `northwindledger`. */
function domainLabel(url: string): string {
  const labels = new URL(url).hostname.replace(/^www\./, '').split('.');
  const label = labels.length > 2 && /^(co|com|org|net|ac|gov)$/.test(labels.at(-2)!) ? labels.at(-3)! : (labels.at(-2) ?? labels[0]!);
  return squeeze(label);
}

/**
 * The company's name as the site writes it. Titles are "Brand | Tagline" or "Page — Brand"; the
 * part that matches the domain is the brand. `og:site_name` is next (an embedded player may have
 * put its own there, which is why the domain decides first), then the domain itself.
 */
export function siteNameOf(pages: readonly ExtractedPage[]): string {
  const home = pages.find((page) => page.kind === 'HOME') ?? pages[0];
  if (!home) return '';
  const label = domainLabel(home.url);
  const candidates = [home.openGraph['site_name'], ...pages.flatMap((page) => (page.title ?? '').split(/\s[|–—·-]\s|:\s/))]
    .filter((candidate): candidate is string => Boolean(candidate))
    .map((candidate) => normalizeText(candidate));
  const matching = candidates.find((candidate) => {
    const squeezed = squeeze(candidate);
    return squeezed.length >= 3 && label.length >= 3 && (squeezed.includes(label) || label.includes(squeezed));
  });
  return matching ?? home.openGraph['site_name'] ?? label.charAt(0).toUpperCase() + label.slice(1);
}
