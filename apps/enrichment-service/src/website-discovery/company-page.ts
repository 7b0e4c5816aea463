// htmlparser2 (cheerio's slim build) rather than parse5: this page is only searched for text, phone
// links and structured data, which needs no browser-exact tree, and parse5 was most of the check's CPU.
import * as cheerio from 'cheerio/slim';

/** What a fetched page shows that can tell whose website it is. */
export interface CompanyPage {
  url: string;
  title: string;
  /** The visible text (scripts and styles removed), whitespace collapsed. */
  text: string;
  /** Numbers of `tel:` links and JSON-LD `telephone`s. */
  telephones: string[];
  /** Names and addresses the page's structured data (JSON-LD) gives its organisation. */
  structuredNames: string[];
  structuredAddresses: string[];
}

const maximumTextCharacters = 200_000;

function jsonLdItems(value: unknown, depth = 0): Array<Record<string, unknown>> {
  if (depth > 6 || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item) => jsonLdItems(item, depth + 1));
  const item = value as Record<string, unknown>;
  return [item, ...jsonLdItems(item['@graph'], depth + 1)];
}

/** Reads a page's title, text, phone links and structured data. Never throws on malformed HTML. */
export function readCompanyPage(html: string, url: string): CompanyPage {
  const $ = cheerio.load(html.length > 2_000_000 ? html.slice(0, 2_000_000) : html);
  const telephones: string[] = [];
  const structuredNames: string[] = [];
  const structuredAddresses: string[] = [];
  $('a[href^="tel:" i]').each((_index, element) => {
    telephones.push(decodeURIComponent(($(element).attr('href') ?? '').slice(4)));
  });
  $('script[type="application/ld+json"]').each((_index, element) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse($(element).text());
    } catch {
      return;
    }
    for (const item of jsonLdItems(parsed)) {
      if (typeof item['name'] === 'string') structuredNames.push(item['name']);
      if (typeof item['telephone'] === 'string') telephones.push(item['telephone']);
      const address = item['address'];
      if (typeof address === 'string') structuredAddresses.push(address);
      else if (address && typeof address === 'object') structuredAddresses.push(Object.values(address as Record<string, unknown>).filter((part) => typeof part === 'string').join(' '));
    }
  });
  const title = $('title').first().text().replace(/\s+/g, ' ').trim();
  const siteName = $('meta[property="og:site_name"]').attr('content');
  if (siteName) structuredNames.push(siteName);
  // The document without its head rather than `<body>`: htmlparser2 does not move stray content into
  // a body as a browser does, so a page without `<body>` (or with text after `</body>`) keeps its text.
  $('head, title, script, style, noscript, template, svg').remove();
  const text = $.root().text().replace(/\s+/g, ' ').trim().slice(0, maximumTextCharacters);
  return { url, title, text, telephones, structuredNames, structuredAddresses };
}
