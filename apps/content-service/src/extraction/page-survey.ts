import type { HtmlDocument } from './html-document.js';

/** Elements whose text is never shown as text. */
export const nonTextTags = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'canvas', 'object', 'embed', 'head', 'title', 'meta', 'link', 'select', 'option', 'textarea']);

/** Elements that break the flow of text: their start and end separate words. */
export const blockTags = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'button', 'caption', 'center', 'dd', 'details', 'dialog', 'div', 'dl', 'dt', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'li', 'main', 'menu', 'nav', 'ol', 'p', 'pre',
  'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul', 'legend', 'label',
]);

/** A URL the page loads or points to, with the element and attribute it came from. */
export interface PageResource {
  /** `script`, `link`, `iframe`, `img`, `source`, `video`, `form`, `a` … */
  tag: string;
  url: string;
}

/**
 * Everything about a page that is read from the whole document, boilerplate included: the
 * footer's email address and social links, the head's scripts, the class names a site builder
 * leaves behind. Collected in one walk of the original tree.
 */
export interface PageSurvey {
  anchors: Array<{ href: string; text: string }>;
  resources: PageResource[];
  /** Inline script bodies, each cut at 20 000 characters (fingerprints sit at the start). */
  inlineScripts: string[];
  /** The `id` of each inline script, e.g. `__NEXT_DATA__`. */
  scriptIds: Set<string>;
  comments: string[];
  classTokens: Set<string>;
  /** Attribute names seen on any element (`data-wf-site`, `data-framer-name`, `ng-version` …). */
  attributeNames: Set<string>;
  elementIds: Set<string>;
  /** Cloudflare's email obfuscation (`data-cfemail`), still encoded. */
  encodedEmails: string[];
  /** Every visible text of the document, with a line break between blocks. */
  text: string;
}

/**
 * The element's tag as the live page had it. Capture tools (a browser's "save as MHTML", some
 * crawlers) inline an iframe's document into a `<div data-original-tag="iframe">`; that document
 * belongs to another site (a Loom player, a form) and must not be read as this page.
 */
export function tagOf(element: Element): string {
  return element.getAttribute('data-original-tag')?.toLowerCase() ?? element.localName;
}

const maximumInlineScript = 20_000;
// Deeper nesting is not a real page; the walks are recursive and the stack must hold.
const maximumDepth = 1_000;
const resourceAttributes: Record<string, string> = { script: 'src', link: 'href', iframe: 'src', img: 'src', source: 'src', video: 'src', audio: 'src', embed: 'src', form: 'action' };

/** Walks the document once and collects what contacts, technologies and links are read from. */
export function surveyDocument(document: HtmlDocument): PageSurvey {
  const survey: PageSurvey = {
    anchors: [],
    resources: [],
    inlineScripts: [],
    scriptIds: new Set(),
    comments: [],
    classTokens: new Set(),
    attributeNames: new Set(),
    elementIds: new Set(),
    encodedEmails: [],
    text: '',
  };
  const textParts: string[] = [];

  const visit = (node: Node, depth: number, inText: boolean): void => {
    if (node.nodeType === 3) {
      if (inText) textParts.push((node as Text).data);
      return;
    }
    if (node.nodeType === 8) {
      const data = (node as Comment).data.trim();
      if (data) survey.comments.push(data.slice(0, 300));
      return;
    }
    if (node.nodeType !== 1 || depth > maximumDepth) return;
    const element = node as Element;
    const tag = tagOf(element);
    for (const name of element.getAttributeNames()) {
      survey.attributeNames.add(name);
      if (name === 'class') {
        for (const token of (element.getAttribute('class') ?? '').split(/\s+/)) if (token) survey.classTokens.add(token);
      } else if (name === 'id') {
        survey.elementIds.add(element.getAttribute('id') ?? '');
      } else if (name === 'data-cfemail') {
        survey.encodedEmails.push(element.getAttribute(name) ?? '');
      }
    }
    const resourceAttribute = resourceAttributes[tag];
    const resource = resourceAttribute ? element.getAttribute(resourceAttribute) : null;
    if (resource) survey.resources.push({ tag, url: resource });
    if (tag === 'a') {
      const href = element.getAttribute('href');
      if (href) survey.anchors.push({ href, text: element.textContent ?? '' });
    }
    if (tag === 'iframe') return;
    if (tag === 'script' && !resource) {
      const id = element.getAttribute('id');
      if (id) survey.scriptIds.add(id);
      const body = element.textContent ?? '';
      if (body.trim()) survey.inlineScripts.push(body.slice(0, maximumInlineScript));
      return;
    }
    const childrenInText = inText && !nonTextTags.has(tag);
    const isBlock = blockTags.has(tag);
    if (isBlock) textParts.push('\n');
    for (let child = element.firstChild; child; child = child.nextSibling) visit(child, depth + 1, childrenInText);
    if (isBlock) textParts.push('\n');
  };

  visit(document.documentElement, 0, true);
  survey.text = textParts.join('');
  return survey;
}
