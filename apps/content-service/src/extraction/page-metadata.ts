import type { HtmlDocument } from './html-document.js';
import { normalizeText } from './text-normalization.js';

export interface PageMetadata {
  title: string | null;
  description: string | null;
  language: string | null;
  canonicalUrl: string | null;
  /** `og:*` properties without the prefix (`title`, `description`, `image`, `image:width` …); the first of a repeated one wins. */
  openGraph: Record<string, string>;
  /** `<meta name>` and `<meta http-equiv>` values by lower-case name (`description`, `generator`, `twitter:title` …); the first wins. */
  meta: Record<string, string>;
  /** Parsed `application/ld+json` blocks; a block holding an array contributes its items. */
  jsonLd: unknown[];
}

const nonEmpty = (value: string | null | undefined): string | null => {
  const text = value === null || value === undefined ? '' : normalizeText(value);
  return text ? text : null;
};

/** An absolute http(s) URL, or null for anything else (`javascript:`, garbage). */
export function absoluteHttpUrl(href: string | null | undefined, base: string): string | null {
  if (!href) return null;
  try {
    const url = new URL(href.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * JSON-LD as sites write it: often wrapped in an HTML comment or CDATA, sometimes with a trailing
 * comma. Anything still invalid after that is skipped rather than guessed at.
 */
function parseJsonLd(text: string): unknown[] {
  const cleaned = text
    .replace(/^\s*(?:<!--|\/\/\s*<!\[CDATA\[|<!\[CDATA\[)/, '')
    .replace(/(?:-->|\/\/\s*\]\]>|\]\]>)\s*$/, '')
    .replace(/,\s*([}\]])/g, '$1')
    .trim();
  if (!cleaned) return [];
  try {
    const value: unknown = JSON.parse(cleaned);
    return Array.isArray(value) ? value : [value];
  } catch {
    return [];
  }
}

/** Reads what the head says about the page, from the document before any content is removed. */
export function readMetadata(document: HtmlDocument, url: string): PageMetadata {
  const openGraph: Record<string, string> = {};
  const meta: Record<string, string> = {};
  for (const element of document.querySelectorAll('meta')) {
    const content = nonEmpty(element.getAttribute('content'));
    if (!content) continue;
    const property = (element.getAttribute('property') ?? '').trim().toLowerCase();
    if (property.startsWith('og:')) openGraph[property.slice(3)] ??= content;
    const name = (element.getAttribute('name') ?? element.getAttribute('http-equiv') ?? '').trim().toLowerCase();
    if (name) meta[name] ??= content;
    // Some sites write Open Graph tags with `name=` instead of `property=`.
    if (name.startsWith('og:')) openGraph[name.slice(3)] ??= content;
  }

  const jsonLd: unknown[] = [];
  for (const script of document.querySelectorAll('script[type="application/ld+json" i]')) {
    // An inlined iframe's document describes another site (see tagOf).
    if (script.closest('[data-original-tag]') === null) jsonLd.push(...parseJsonLd(script.textContent ?? ''));
  }

  // The head's own <title> first: an inlined iframe's document has a title (and headings) too.
  const ownElement = (selector: string) => [...document.querySelectorAll(selector)].find((element) => element.closest('[data-original-tag]') === null);
  const titleElement = document.querySelector('head > title') ?? ownElement('title');
  const firstHeading = ownElement('h1');
  const title = nonEmpty(titleElement?.textContent) ?? openGraph['title'] ?? meta['twitter:title'] ?? nonEmpty(firstHeading?.textContent);
  const description = meta['description'] ?? openGraph['description'] ?? meta['twitter:description'] ?? null;

  const locale = openGraph['locale']?.replace('_', '-');
  const language = nonEmpty(document.documentElement.getAttribute('lang')) ?? meta['content-language'] ?? nonEmpty(locale);

  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  const base = absoluteHttpUrl(baseHref, url) ?? url;
  const canonicalUrl = absoluteHttpUrl(document.querySelector('link[rel~="canonical" i]')?.getAttribute('href'), base);

  return { title, description, language, canonicalUrl, openGraph, meta, jsonLd };
}
