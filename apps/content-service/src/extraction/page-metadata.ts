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

/** The elements a page's metadata is read from, found in one walk of the document. */
export interface MetadataElements {
  /** Every `<meta>`, in document order. */
  metas: Element[];
  /** Every `<script type="application/ld+json">` (any case), in document order. */
  jsonLdScripts: Element[];
  /** The first `<title>` whose parent is a `<head>`. */
  headTitle: Element | null;
  /** The first `<title>` and `<h1>` outside an inlined iframe's document (see tagOf). */
  ownTitle: Element | null;
  ownHeading: Element | null;
  /** The first `<base>` with an `href`. */
  base: Element | null;
  /** The first `<link>` whose `rel` holds `canonical` (any case). */
  canonical: Element | null;
}

/** Inside (or on) an element a capture tool made of an inlined iframe's document. */
const inInlinedDocument = (element: Element) => element.closest('[data-original-tag]') !== null;

/**
 * Finds the elements metadata is read from in one walk of the element tree, in document order:
 * what seven selector queries found before, each of them a walk of the whole tree (the last ones
 * of a page without a `<base>` or a canonical link) with its selector compiled anew.
 */
export function findMetadataElements(document: HtmlDocument): MetadataElements {
  const found: MetadataElements = { metas: [], jsonLdScripts: [], headTitle: null, ownTitle: null, ownHeading: null, base: null, canonical: null };
  // Pre-order without recursion or a stack: first child, else the next sibling of the nearest
  // ancestor that has one. Depth costs nothing, as it did not for the selector queries.
  let element: Element | null = document.documentElement;
  while (element) {
    const name = element.localName.toLowerCase();
    if (name === 'meta') found.metas.push(element);
    else if (name === 'script') {
      if (element.getAttribute('type')?.toLowerCase() === 'application/ld+json') found.jsonLdScripts.push(element);
    } else if (name === 'title') {
      if (!found.headTitle && element.parentElement?.localName.toLowerCase() === 'head') found.headTitle = element;
      if (!found.ownTitle && !inInlinedDocument(element)) found.ownTitle = element;
    } else if (name === 'h1') {
      if (!found.ownHeading && !inInlinedDocument(element)) found.ownHeading = element;
    } else if (name === 'base') {
      if (!found.base && element.hasAttribute('href')) found.base = element;
    } else if (name === 'link') {
      if (!found.canonical && (element.getAttribute('rel') ?? '').split(/\s+/).some((token) => token.toLowerCase() === 'canonical')) found.canonical = element;
    }
    let next: Element | null = element.firstElementChild;
    for (let ancestor: Element | null = element; !next && ancestor; ancestor = ancestor.parentElement) next = ancestor.nextElementSibling;
    element = next;
  }
  return found;
}

/** Reads what the head says about the page, from the document before any content is removed. */
export function readMetadata(document: HtmlDocument, url: string, elements: MetadataElements = findMetadataElements(document)): PageMetadata {
  const openGraph: Record<string, string> = {};
  const meta: Record<string, string> = {};
  for (const element of elements.metas) {
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
  for (const script of elements.jsonLdScripts) {
    // An inlined iframe's document describes another site (see tagOf).
    if (!inInlinedDocument(script)) jsonLd.push(...parseJsonLd(script.textContent ?? ''));
  }

  // The head's own <title> first: an inlined iframe's document has a title (and headings) too.
  const titleElement = elements.headTitle ?? elements.ownTitle;
  const title = nonEmpty(titleElement?.textContent) ?? openGraph['title'] ?? meta['twitter:title'] ?? nonEmpty(elements.ownHeading?.textContent);
  const description = meta['description'] ?? openGraph['description'] ?? meta['twitter:description'] ?? null;

  const locale = openGraph['locale']?.replace('_', '-');
  const language = nonEmpty(document.documentElement.getAttribute('lang')) ?? meta['content-language'] ?? nonEmpty(locale);

  const base = absoluteHttpUrl(elements.base?.getAttribute('href'), url) ?? url;
  const canonicalUrl = absoluteHttpUrl(elements.canonical?.getAttribute('href'), base);

  return { title, description, language, canonicalUrl, openGraph, meta, jsonLd };
}
