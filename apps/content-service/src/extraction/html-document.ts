import { parseHTML } from 'linkedom';

/** The DOM types linkedom returns; they follow the standard DOM closely enough to use the lib's. */
export type HtmlDocument = Document;

// Inline SVG is drawing, never text a campaign can use, and on landing pages it is most of the
// bytes (intryc.com: about 880 of 935 KB are animated SVG paths). Cutting it before parsing makes the
// parse several times faster. A nested <svg> leaves only its parent's shapes behind, no text.
const inlineSvg = /<svg\b[\s\S]*?<\/svg\s*>/gi;
const headPart = /<head(?:\s[^>]*)?>([\s\S]*?)<\/head\s*>/i;
const htmlOpenTag = /<html(\s[^>]*)?>/i;

/**
 * linkedom builds the tree as written and does not repair it like a browser: without `<html>`
 * there is no document element (and `document.head` throws), and content outside `<body>` stays
 * outside it. Fragments, head-only and body-less documents are rebuilt into
 * `<html><head>…</head><body>…</body></html>` first.
 */
function completeDocument(html: string): string {
  // Tags are looked for outside scripts, styles and comments: `var s = "<body>"` is not a body.
  const markup = html.replace(/<script\b[\s\S]*?<\/script\s*>|<style\b[\s\S]*?<\/style\s*>|<!--[\s\S]*?-->/gi, '');
  const hasHtml = htmlOpenTag.test(markup);
  const hasBody = /<body[\s>]/i.test(markup);
  if (hasHtml && hasBody) return html;
  const htmlAttributes = htmlOpenTag.exec(markup)?.[1] ?? '';
  const head = headPart.exec(html)?.[1] ?? '';
  const rest = html
    .replace(headPart, '')
    .replace(/<!doctype[^>]*>/gi, '')
    .replace(/<\/?html(?:\s[^>]*)?>/gi, '');
  return `<!doctype html><html${htmlAttributes}><head>${head}</head>${hasBody ? rest : `<body>${rest}</body>`}</html>`;
}

/** Parses a page into a DOM that always has a document element, a head and a body. */
export function parseDocument(html: string): HtmlDocument {
  const { document } = parseHTML(completeDocument(html.replace(inlineSvg, '')));
  return document as unknown as HtmlDocument;
}
