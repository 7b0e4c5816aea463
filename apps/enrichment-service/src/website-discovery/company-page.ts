// One streaming pass of htmlparser2 (the tokenizer cheerio and linkedom build on), no tree: a
// candidate page is only searched for its title, text, phone links and structured data, and
// building a DOM to select them was most of the WEBSITE check's CPU. The events are the ones a
// tree would be built from, so what is read is what selecting in that tree gave.
import { Parser } from 'htmlparser2';

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
const maximumHtmlCharacters = 2_000_000;
// Elements whose text is not the page's visible text: the head, scripts, styles, drawings.
const hiddenTextTags = new Set(['head', 'title', 'script', 'style', 'noscript', 'template', 'svg']);

function jsonLdItems(value: unknown, depth = 0): Array<Record<string, unknown>> {
  if (depth > 6 || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item) => jsonLdItems(item, depth + 1));
  const item = value as Record<string, unknown>;
  return [item, ...jsonLdItems(item['@graph'], depth + 1)];
}

/** Reads a page's title, text, phone links and structured data. Never throws on malformed HTML. */
export function readCompanyPage(html: string, url: string): CompanyPage {
  const telephoneLinks: string[] = [];
  const jsonLdBlocks: string[] = [];
  const textParts: string[] = [];
  let titleParts: string[] | null = null;
  let title: string | null = null;
  let siteName: string | undefined;
  let siteNameSeen = false;
  // Open elements that hide their text, and the open title and JSON-LD script, by depth.
  let hiddenDepth = 0;
  let depth = 0;
  let titleDepth = -1;
  let jsonLdDepth = -1;
  let jsonLdParts: string[] = [];

  const parser = new Parser({
    onopentag(name, attributes) {
      depth += 1;
      if (name === 'a' && /^tel:/i.test(attributes['href'] ?? '')) telephoneLinks.push(attributes['href']!.slice(4));
      if (name === 'meta' && attributes['property'] === 'og:site_name' && !siteNameSeen) {
        siteNameSeen = true;
        siteName = attributes['content'];
      }
      if (name === 'title' && title === null && titleDepth < 0) {
        titleDepth = depth;
        titleParts = [];
      }
      if (name === 'script' && attributes['type'] === 'application/ld+json' && jsonLdDepth < 0) {
        jsonLdDepth = depth;
        jsonLdParts = [];
      }
      if (hiddenTextTags.has(name)) hiddenDepth += 1;
    },
    ontext(text) {
      if (titleParts) titleParts.push(text);
      if (jsonLdDepth >= 0) jsonLdParts.push(text);
      if (hiddenDepth === 0) textParts.push(text);
    },
    onclosetag(name) {
      if (hiddenTextTags.has(name)) hiddenDepth -= 1;
      if (depth === titleDepth) {
        title = titleParts!.join('');
        titleParts = null;
        titleDepth = -1;
      }
      if (depth === jsonLdDepth) {
        jsonLdBlocks.push(jsonLdParts.join(''));
        jsonLdDepth = -1;
      }
      depth -= 1;
    },
  });
  parser.end(html.length > maximumHtmlCharacters ? html.slice(0, maximumHtmlCharacters) : html);

  const telephones = telephoneLinks.map((number) => {
    try {
      return decodeURIComponent(number);
    } catch {
      return number;
    }
  });
  const structuredNames: string[] = [];
  const structuredAddresses: string[] = [];
  for (const block of jsonLdBlocks) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(block);
    } catch {
      continue;
    }
    for (const item of jsonLdItems(parsed)) {
      if (typeof item['name'] === 'string') structuredNames.push(item['name']);
      if (typeof item['telephone'] === 'string') telephones.push(item['telephone']);
      const address = item['address'];
      if (typeof address === 'string') structuredAddresses.push(address);
      else if (address && typeof address === 'object') structuredAddresses.push(Object.values(address as Record<string, unknown>).filter((part) => typeof part === 'string').join(' '));
    }
  }
  if (siteName) structuredNames.push(siteName);
  const text = textParts.join('').replace(/\s+/g, ' ').trim().slice(0, maximumTextCharacters);
  return { url, title: ((title as string | null) ?? '').replace(/\s+/g, ' ').trim(), text, telephones, structuredNames, structuredAddresses };
}
