import * as cheerio from 'cheerio';
import type { PageReader } from './page-reader.js';

/** `off`: never render; `auto`: render pages whose HTML has almost no text but has scripts; `always`. */
export const renderModes = ['off', 'auto', 'always'] as const;
export type RenderMode = (typeof renderModes)[number];

/** Fewer visible words than this, with scripts present, marks a page its JavaScript has yet to build. */
const thinPageWords = 60;

/** Whether static HTML looks like an application shell (an empty `#root` and a bundle) rather than a page. */
export function looksClientRendered(html: string): boolean {
  const document = cheerio.load(html);
  if (document('script[src], script:not([type]), script[type="module"]').length === 0) return false;
  document('script, style, noscript, template, svg').remove();
  const words = document('body').text().split(/\s+/).filter(Boolean).length;
  return words < thinPageWords;
}

/**
 * Reads pages directly and renders in Chromium only those that need it (`auto`), or all of them
 * (`always`). A page that fails to render keeps its static HTML: thin content beats none.
 */
export function createRenderingPageReader(direct: PageReader, renderer: PageReader, mode: Exclude<RenderMode, 'off'>): PageReader {
  return {
    source: mode === 'always' ? 'CHROMIUM' : direct.source,
    appliesRobotsItself: false,
    async read(url, signal) {
      if (mode === 'always') return renderer.read(url, signal);
      const page = await direct.read(url, signal);
      if (!looksClientRendered(page.html)) return page;
      try {
        return { ...(await renderer.read(page.url, signal)), renderedBy: renderer.source };
      } catch {
        return page;
      }
    },
    close: async () => {
      await renderer.close?.();
    },
  };
}
