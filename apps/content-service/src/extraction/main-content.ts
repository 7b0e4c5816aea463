import { isProbablyReaderable, Readability } from '@mozilla/readability';
import type { HtmlDocument } from './html-document.js';
import { composeSection, contentWordCount, type PageBlock, type PageSection } from './page-section.js';
import { blockTags, nonTextTags, tagOf } from './page-survey.js';
import { comparisonKey, countWords, normalizeText } from './text-normalization.js';

export interface MainContent {
  headings: Array<{ level: number; text: string }>;
  /** Names on logo images in the main content (customer and partner logo walls). */
  logos: string[];
  sections: PageSection[];
  wordCount: number;
  /** Which reading won: readability's article, or the page's structure minus its boilerplate. */
  extractedWith: 'readability' | 'structure';
}

// `scope` marks a <section> or <article>: a heading inside one does not head what follows it.
type ContentEvent = { type: 'heading'; level: number; text: string } | ({ type: 'block' } & PageBlock) | { type: 'scope'; boundary: 'start' | 'end' };

// Never main content: not text, or text a visitor does not read as the page's message.
const skippedTags = new Set([...nonTextTags, 'iframe', 'img', 'picture', 'video', 'audio', 'map', 'input', 'dialog', 'nav', 'aside', 'footer']);
// Not `tablist`: landing pages put their feature names and descriptions in tabs (Webflow's w-tab-menu).
const skippedRoles = new Set(['navigation', 'contentinfo', 'complementary', 'search', 'dialog', 'alertdialog', 'menu', 'menubar']);
// Class and id tokens of cookie banners, newsletter boxes, pop-ups and site chrome. Whole tokens
// only: "footer" is the site's footer, "card-footer" is part of a pricing card.
const boilerplateTokens = new Set([
  'nav', 'navbar', 'nav-bar', 'nav-menu', 'navigation', 'main-nav', 'main-menu', 'mobile-menu', 'menu', 'site-nav', 'top-bar', 'topbar', 'w-nav',
  'footer', 'site-footer', 'page-footer', 'global-footer', 'footer-wrapper', 'sidebar', 'side-bar', 'breadcrumb', 'breadcrumbs', 'skip-link',
  'skip-to-content', 'announcement-bar', 'promo-bar', 'share', 'share-buttons', 'social-share', 'sharing', 'sr-only', 'visually-hidden',
  'screen-reader-text', 'w-condition-invisible', 'related-posts', 'comments',
]);
// Tokens of a page header; kept when it holds the page's <h1> (a hero written as <header>).
const headerTokens = new Set(['header', 'site-header', 'page-header', 'global-header', 'header-wrapper', 'masthead']);
const boilerplatePrefixes = /^(cookie|consent|gdpr|onetrust|cookiebot|osano|cc-window|cc-banner|newsletter|subscribe|modal|popup|pop-up|lightbox|drawer|offcanvas|off-canvas|intercom|chat-widget)/;
// Framer names its layers; its navigation and footer are layers, not semantic elements.
const framerChrome = /^(nav|navbar|navigation|menu|header|footer|cookie|banner)\b/i;
const hiddenStyle = /display\s*:\s*none|visibility\s*:\s*hidden/i;
// Tailwind's `md:hidden`: a small-screen copy of text the page shows differently on wide screens.
const smallScreenOnly = /(?:^|\s)(?:sm|md|lg|xl|2xl):hidden(?:\s|$)/;

/** Not shown (or shown only on small screens, as a copy of what wide screens show). */
function isHidden(element: Element): boolean {
  if (element.hasAttribute('hidden') || element.getAttribute('aria-hidden') === 'true') return true;
  const style = element.getAttribute('style');
  if (style && hiddenStyle.test(style)) return true;
  const classes = element.getAttribute('class');
  return classes !== null && smallScreenOnly.test(classes);
}

function isBoilerplate(element: Element, tag: string): boolean {
  if (skippedTags.has(tag) || isHidden(element) || element.getAttribute('aria-modal') === 'true') return true;
  const role = element.getAttribute('role');
  if (role && skippedRoles.has(role)) return true;
  const framerName = element.getAttribute('data-framer-name');
  if (framerName && framerChrome.test(framerName)) return true;
  // A form that carries no heading is a sign-up or search box; some sites wrap the whole page in one.
  if (tag === 'form') return element.querySelector('h1, h2') === null;
  let isHeader = tag === 'header' || role === 'banner';
  const tokens = `${element.getAttribute('class') ?? ''} ${element.getAttribute('id') ?? ''}`.toLowerCase().split(/\s+/);
  for (const token of tokens) {
    if (!token) continue;
    if (boilerplateTokens.has(token) || boilerplatePrefixes.test(token)) return true;
    if (headerTokens.has(token)) isHeader = true;
  }
  return isHeader && element.querySelector('h1') === null;
}

// Containers of logo walls: "logos", "customers", "clients", "trusted-by", "marquee" …
const logoWall = /(?:^|[\s_-])(logos|logo-wall|customers|clients|partners|trusted|trusted-by|brands|marquee)(?:$|[\s_-])/i;
// Alt texts that name no one.
const genericAlt = /^(logo|image|img|icon|company|customer|client|partner|brand|picture|photo|avatar|placeholder|\d+)$/i;

/** The name on a logo image: `alt="Brightline Logistics logo"` → "Brightline Logistics". */
function logoName(image: Element, inLogoWall: boolean): string | null {
  const alt = normalizeText(image.getAttribute('alt') ?? '');
  const isLogo = inLogoWall || /\blogo\b/i.test(alt) || /logo/i.test(image.getAttribute('src') ?? '');
  const name = alt.replace(/\s*[-–|]?\s*logo(type)?\s*$/i, '').replace(/^logo( of)?\s*[-–:]?\s*/i, '').trim();
  return isLogo && name && !genericAlt.test(name) && countWords(name) <= 6 ? name : null;
}

const headingLevels: Record<string, number> = { h1: 1, h2: 2, h3: 3, h4: 4, h5: 5, h6: 6 };
// Deeper nesting is not a real page; the walks are recursive and the stack must hold.
const maximumDepth = 1_000;

// Marks where an inline element starts or ends while text is gathered.
const inlineBoundary = '\uE000';
const gluedWords = /(?<=[\p{Ll}\p{N}.!?:;,)])\uE000+(?=\p{Lu})/gu;
// Bullets typed into the text of list items and pseudo-lists.
const leadingBullet = /^(?:[•·▪◦‣●○■□➤►▸✓✔✅☑→]\s*|[-–—*]\s+)/u;

/**
 * Joins gathered text. Where one inline element ends with a lower-case letter and the next
 * starts with a capital, the page shows them on two lines by CSS (`<span>Wes Braga</span><span>
 * Platform Engineer</span>`); they get a space instead of being glued into "BragaPlatform".
 */
function joinText(parts: readonly string[]): string {
  return normalizeText(parts.join('').replace(gluedWords, ' ').replaceAll(inlineBoundary, '')).replace(leadingBullet, '');
}

/** Text of an element with block children separated, for headings. */
function textOf(element: Element): string {
  const parts: string[] = [];
  const visit = (node: Node, depth: number): void => {
    if (node.nodeType === 3) parts.push((node as Text).data);
    if (node.nodeType !== 1 || depth > maximumDepth) return;
    const tag = (node as Element).localName;
    if (nonTextTags.has(tag) || isHidden(node as Element)) return;
    const separator = blockTags.has(tag) ? ' ' : inlineBoundary;
    parts.push(separator);
    for (let child = node.firstChild; child; child = child.nextSibling) visit(child, depth + 1);
    parts.push(separator);
  };
  visit(element, 0);
  return joinText(parts);
}

/**
 * Reads the content under `root` as a flat list of headings and blocks. Inline text is gathered
 * until a block element starts or ends; each list item, paragraph and table row is a block. A
 * short block that is nothing but a link or button label ("Book a demo", "Learn more") is a
 * call to action, not content, and is dropped. Skipped boilerplate elements are returned so the
 * caller can remove them before readability sees the tree.
 */
function readStructure(root: Element): { events: ContentEvent[]; skipped: Element[]; logos: string[] } {
  const events: ContentEvent[] = [];
  const skipped: Element[] = [];
  const logos = new Set<string>();
  let logoWallDepth = 0;
  let buffer: string[] = [];
  let hasPlainText = false;
  let interactiveDepth = 0;
  // Where the outermost link or button being read started in `buffer`, and the most words any
  // link of the pending block had.
  let linkStart = 0;
  let longestLink = 0;
  let listCount = 0;
  const contexts: Array<{ kind: PageBlock['kind']; list?: number }> = [{ kind: 'paragraph' }];

  const flush = () => {
    if (buffer.length === 0) return;
    if (interactiveDepth > 0) longestLink = Math.max(longestLink, countWords(buffer.slice(linkStart).join('')));
    const text = joinText(buffer);
    const context = contexts.at(-1)!;
    // Nothing but short links and buttons: a call to action or a row of them ("Open Source  Book a Demo").
    const isLinkRow = !hasPlainText && context.kind !== 'list-item' && longestLink <= 4;
    if (text && !isLinkRow) events.push({ type: 'block', kind: context.kind, text, ...(context.list === undefined ? {} : { list: context.list }) });
    buffer = [];
    hasPlainText = false;
    linkStart = 0;
    longestLink = 0;
  };

  const visit = (node: Node, depth: number): void => {
    if (node.nodeType === 3) {
      const data = (node as Text).data;
      buffer.push(data);
      if (interactiveDepth === 0 && /\S/.test(data)) hasPlainText = true;
      return;
    }
    if (node.nodeType !== 1 || depth > maximumDepth) return;
    const element = node as Element;
    const tag = tagOf(element);
    if (tag === 'img' && !isHidden(element)) {
      const name = logoName(element, logoWallDepth > 0);
      if (name) logos.add(name);
    }
    if (isBoilerplate(element, tag)) {
      skipped.push(element);
      return;
    }
    if (tag === 'br') {
      buffer.push(' ');
      return;
    }
    const level = headingLevels[tag];
    if (level !== undefined) {
      flush();
      const text = textOf(element);
      if (text) events.push({ type: 'heading', level, text });
      return;
    }
    if ((tag === 'td' || tag === 'th') && buffer.some((part) => /\S/.test(part))) buffer.push(' | ');
    const isBlock = blockTags.has(tag) && tag !== 'td' && tag !== 'th' && tag !== 'button' && tag !== 'label';
    const isInteractive = tag === 'a' || tag === 'button';
    const isScope = tag === 'section' || tag === 'article';
    if (isScope) events.push({ type: 'scope', boundary: 'start' });
    if (isBlock) {
      flush();
      const parent = contexts.at(-1)!;
      if (tag === 'ul' || tag === 'ol') contexts.push({ ...parent, list: ++listCount });
      else if (tag === 'li') contexts.push({ kind: 'list-item', list: parent.list ?? ++listCount });
      else if (tag === 'blockquote') contexts.push({ kind: 'quote' });
      else contexts.push(parent);
    }
    if (isInteractive && interactiveDepth++ === 0) linkStart = buffer.length;
    if (!isBlock) buffer.push(inlineBoundary);
    const isLogoWall = logoWall.test(`${element.getAttribute('class') ?? ''} ${element.getAttribute('id') ?? ''}`);
    if (isLogoWall) logoWallDepth += 1;
    for (let child = element.firstChild; child; child = child.nextSibling) visit(child, depth + 1);
    if (isLogoWall) logoWallDepth -= 1;
    if (!isBlock) buffer.push(inlineBoundary);
    if (isInteractive && --interactiveDepth === 0) longestLink = Math.max(longestLink, countWords(buffer.slice(linkStart).join('')));
    if (isBlock) {
      flush();
      contexts.pop();
    }
    if (isScope) events.push({ type: 'scope', boundary: 'end' });
  };

  for (let child = root.firstChild; child; child = child.nextSibling) visit(child, 0);
  flush();
  return { events, skipped, logos: [...logos] };
}

const headingCount = (events: readonly ContentEvent[]) => events.filter((event) => event.type === 'heading').length;
const eventWords = (events: readonly ContentEvent[]) => events.reduce((total, event) => total + (event.type === 'scope' ? 0 : countWords(event.text)), 0);

/**
 * Drops what the page says twice (Framer renders every breakpoint's variant, carousels repeat
 * their slides) and headings that head nothing new, keeping the first occurrence.
 */
function withoutRepeats(events: readonly ContentEvent[]): ContentEvent[] {
  const seenBlocks = new Set<string>();
  const seenHeadings = new Set<string>();
  const kept: ContentEvent[] = [];
  for (const event of events) {
    if (event.type === 'scope') {
      kept.push(event);
      continue;
    }
    const key = comparisonKey(event.text);
    if (!key) continue;
    if (event.type === 'block') {
      if (seenBlocks.has(key)) continue;
      seenBlocks.add(key);
    } else {
      const headingKey = `${event.level}:${key}`;
      if (seenHeadings.has(headingKey)) continue;
      seenHeadings.add(headingKey);
    }
    kept.push(event);
  }
  return kept;
}

function sectionsOf(events: readonly ContentEvent[]): PageSection[] {
  const path: Array<{ level: number; text: string }> = [];
  const sections: Array<{ headingPath: string[]; blocks: PageBlock[] }> = [];
  let current: { headingPath: string[]; blocks: PageBlock[] } | null = null;
  const scopeDepths: number[] = [];
  for (const event of events) {
    if (event.type === 'scope') {
      if (event.boundary === 'start') {
        scopeDepths.push(path.length);
        continue;
      }
      // Leaving the scope closes its headings, except the page's <h1>, which heads the whole page
      // even when a hero <section> holds it.
      const depth = scopeDepths.pop() ?? 0;
      while (path.length > depth && path.at(-1)!.level > 1) {
        path.pop();
        current = null;
      }
      continue;
    }
    if (event.type === 'heading') {
      while (path.length > 0 && path.at(-1)!.level >= event.level) path.pop();
      path.push({ level: event.level, text: event.text });
      current = null;
      continue;
    }
    if (!current) {
      current = { headingPath: path.map((heading) => heading.text), blocks: [] };
      sections.push(current);
    }
    const { type: _type, ...block } = event;
    current.blocks.push(block);
  }
  return sections.map((section) => composeSection(section.headingPath, section.blocks));
}

/**
 * Readability turns every <h1> into an <h2> and sometimes drops the title heading. Headings get
 * their level from the page back, and the page's <h1> leads the article again when it went missing.
 */
function withOriginalHeadingLevels(readable: readonly ContentEvent[], structural: readonly ContentEvent[]): ContentEvent[] {
  const levels = new Map<string, number>();
  for (const event of structural) if (event.type === 'heading' && !levels.has(comparisonKey(event.text))) levels.set(comparisonKey(event.text), event.level);
  const restored = readable.map((event) => (event.type === 'heading' ? { ...event, level: levels.get(comparisonKey(event.text)) ?? event.level } : event));
  const mainHeading = structural.find((event) => event.type === 'heading' && event.level === 1);
  const hasMainHeading = restored.some((event) => event.type === 'heading' && event.level === 1);
  return mainHeading && !hasMainHeading ? [mainHeading, ...restored] : restored;
}

/** Below this many words there is nothing for readability to clean. */
const readabilityMinimumWords = 80;
/**
 * Readability is taken when it keeps at least this share of the words and of the headings the
 * structural reading found: what it dropped beyond that is then sidebars, related posts and
 * comments. On landing pages it keeps one block out of many, or the paragraphs without the
 * headings that say what each is about (intryc.com: 7 of 15), and the structure stands.
 */
const readabilityMinimumShare = 0.7;

/**
 * The page's main content, split into sections at its headings. Two readings are compared: the
 * page's structure minus navigation, header, footer, asides, hidden elements, cookie banners,
 * newsletter boxes and pop-ups; and, on article-like pages, Mozilla Readability run on what
 * remains. Readability wins when it keeps most of the words and headings (it is better at
 * dropping in-content clutter such as related posts); otherwise the structural reading stands.
 * Mutates `document`: the boilerplate is removed, and readability rewrites what is left.
 */
export function readMainContent(document: HtmlDocument): MainContent {
  const structural = readStructure(document.body);
  for (const element of structural.skipped) element.remove();
  let events = withoutRepeats(structural.events);
  let extractedWith: MainContent['extractedWith'] = 'structure';
  const structuralWords = eventWords(events);
  // Readability is built for articles and costs several times the parse on a landing page, where
  // it retries with looser rules and still finds one block; its own cheap check tells them apart.
  if (structuralWords >= readabilityMinimumWords && isProbablyReaderable(document)) {
    try {
      const article = new Readability<Element>(document, { serializer: (node) => node as Element }).parse();
      if (article?.content) {
        const readable = withOriginalHeadingLevels(withoutRepeats(readStructure(article.content).events), events);
        if (eventWords(readable) >= structuralWords * readabilityMinimumShare && headingCount(readable) >= headingCount(events) * readabilityMinimumShare) {
          events = readable;
          extractedWith = 'readability';
        }
      }
    } catch {
      // Readability gives up on some trees; the structural reading is complete on its own.
    }
  }
  const headings = events.flatMap((event) => (event.type === 'heading' ? [{ level: event.level, text: event.text }] : []));
  const sections = sectionsOf(events);
  return { headings, logos: structural.logos, sections, wordCount: contentWordCount(headings, sections), extractedWith };
}
