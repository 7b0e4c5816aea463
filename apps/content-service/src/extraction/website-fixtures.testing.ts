// Test data for the extraction tests: the fixture site served by the crawl tests, and the three
// real home pages captured by a crawler, kept in the repository's fixtures/websites.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const northwindDirectory = fileURLToPath(new URL('../../fixtures/northwind-site/', import.meta.url));
const capturesDirectory = fileURLToPath(new URL('../../../../fixtures/websites/', import.meta.url));

export const northwindOrigin = 'http://northwind.test';
/** The fixture site's pages in crawl order (home first), as served at `northwindOrigin`. */
export const northwindPaths = ['/', '/product', '/pricing', '/customers', '/about', '/careers', '/blog/close-faster'] as const;

export function northwindPage(path: string): { url: string; html: string } {
  const file = path === '/' ? 'index.html' : `${path.slice(1)}.html`;
  return { url: `${northwindOrigin}${path}`, html: readFileSync(`${northwindDirectory}${file}`, 'utf8').replaceAll('{{origin}}', northwindOrigin) };
}

export const captureNames = ['blossomer.io', 'panfactum.com', 'intryc.com'] as const;
export type CaptureName = (typeof captureNames)[number];

interface Capture {
  url: string;
  metadata: Record<string, string | string[] | number>;
  markdown: string;
  html: string;
}

const escapeAttribute = (value: string) => value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
// The crawler's own fields and its camel-case copies of the Open Graph tags, not tags of the page.
const crawlerFields = new Set(['scrapeId', 'sourceURL', 'url', 'statusCode', 'contentType', 'proxyUsed', 'creditsUsed', 'favicon', 'language', 'title']);

/**
 * A captured page as the site served it. The crawler kept the body's HTML but moved the head's
 * tags into `metadata` (title, meta name/property → content, repeated tags as arrays); the head is
 * rebuilt from there so the extraction reads what a fetch would have given it.
 */
export function loadCapture(name: CaptureName): { url: string; html: string; markdown: string } {
  const capture = JSON.parse(readFileSync(`${capturesDirectory}${name}.json`, 'utf8')) as Capture;
  const tags: string[] = [];
  if (typeof capture.metadata['title'] === 'string') tags.push(`<title>${escapeAttribute(capture.metadata['title'])}</title>`);
  for (const [key, value] of Object.entries(capture.metadata)) {
    if (crawlerFields.has(key) || /[A-Z]/.test(key)) continue;
    const attribute = key.startsWith('og:') ? 'property' : 'name';
    for (const content of Array.isArray(value) ? value : [value]) tags.push(`<meta ${attribute}="${escapeAttribute(key)}" content="${escapeAttribute(String(content))}">`);
  }
  const html = capture.html.replace(/<html(\s[^>]*)?>/i, (openTag) => `${openTag}<head>${tags.join('')}</head>`);
  return { url: capture.url, html, markdown: capture.markdown };
}
