import { describe, expect, it } from '@jest/globals';
import { extractPage, type ExtractedPage } from './page-extraction.js';
import { removeRepeatedBlocks } from './site-cleaning.js';
import { northwindOrigin, northwindPage, northwindPaths } from './website-fixtures.testing.js';

const allText = (page: ExtractedPage) => page.sections.map((section) => section.text).join('\n');

/**
 * The Northwind pages as a page builder would write them: the same header, nav, cookie banner,
 * newsletter box and footer, but as anonymous <div>s, so that extraction cannot tell them apart
 * from content and only the comparison across pages can.
 */
function anonymousNorthwindPages(): ExtractedPage[] {
  return northwindPaths.map((path) => {
    const html = northwindPage(path)
      .html.replace(/<(header|nav|footer)\b[^>]*>/g, '<div>')
      .replace(/<\/(header|nav|footer)>/g, '</div>')
      .replace(/ class="(cookie-banner|newsletter)"| id="cookie-consent"/g, '');
    return extractPage(html, `${northwindOrigin}${path}`);
  });
}

describe('removeRepeatedBlocks on the Northwind site', () => {
  const extracted = anonymousNorthwindPages();
  const cleaned = removeRepeatedBlocks(extracted);

  it('finds the chrome in the extraction first (the test would prove nothing otherwise)', () => {
    const home = allText(extracted[0]!);
    expect(home).toContain('We use cookies to improve your experience');
    expect(home).toContain('One email a month with close-process tips');
    expect(home).toContain('© 2026 Northwind Ledger, Inc.');
    expect(extracted[0]!.headings.map((heading) => heading.text)).toContain('Get the month-end newsletter');
  });

  it('removes the cookie banner, newsletter box and footer from every page', () => {
    for (const page of cleaned) {
      expect(allText(page)).not.toMatch(/We use cookies|One email a month|© 2026|Contact: hello@northwindledger\.com/);
      expect(page.headings.map((heading) => heading.text)).not.toContain('Get the month-end newsletter');
    }
  });

  it('keeps every page’s own content, with word counts of what is left', () => {
    const byUrl = new Map(cleaned.map((page) => [page.url.slice(northwindOrigin.length), page]));
    expect(allText(byUrl.get('/')!)).toContain('Northwind Ledger automates account reconciliation, accruals and the month-end close');
    expect(allText(byUrl.get('/pricing')!)).toContain('$49 per user per month, billed annually.');
    expect(allText(byUrl.get('/customers')!)).toContain('Kitewire, a Series B SaaS company, replaced 30 close spreadsheets');
    expect(byUrl.get('/about')!.sections.find((section) => section.headingPath.at(-1) === 'Maya Okafor')?.text).toBe('Co-founder & CEO\nPreviously Controller at Zentrix.');
    for (const [index, page] of cleaned.entries()) {
      expect(page.wordCount).toBeLessThan(extracted[index]!.wordCount);
      expect(page.wordCount).toBeGreaterThan(10);
    }
  });

  it('returns new pages and leaves its input alone', () => {
    expect(cleaned).not.toBe(extracted);
    expect(allText(extracted[0]!)).toContain('We use cookies');
  });
});

const page = (path: string, body: string) => extractPage(`<html><body>${body}</body></html>`, `https://acme.test${path}`);

describe('removeRepeatedBlocks rules', () => {
  it('removes a block on at least 60 % of the pages and keeps the first of one on fewer', () => {
    const shared = '<p>Talk to our sales team about volume discounts for large teams.</p>';
    const pair = '<p>Acme connects to every accounting system your team already uses.</p>';
    const pages = [
      page('/', `<h1>Home</h1><p>Home page text about the product.</p>${shared}${pair}`),
      page('/a', `<h1>A</h1><p>Page A text about features.</p>${shared}${pair}`),
      page('/b', `<h1>B</h1><p>Page B text about pricing.</p>${shared}`),
      page('/c', `<h1>C</h1><p>Page C text about customers.</p>`),
      page('/d', `<h1>D</h1><p>Page D text about the company.</p>`),
    ];
    const cleaned = removeRepeatedBlocks(pages);
    // 3 of 5 pages: chrome, gone everywhere.
    expect(cleaned.map(allText).join('\n')).not.toContain('Talk to our sales team');
    // 2 of 5 pages: content said twice, kept where it was said first.
    expect(cleaned.map((cleanedPage) => allText(cleanedPage).includes('Acme connects to every accounting system'))).toEqual([true, false, false, false, false]);
    expect(allText(cleaned[3]!)).toBe('Page C text about customers.');
  });

  it('needs at least three pages before anything counts as chrome', () => {
    const both = '<p>Acme is trusted by 400 finance teams across Europe.</p>';
    const cleaned = removeRepeatedBlocks([page('/', `<h1>Home</h1>${both}`), page('/a', `<h1>A</h1>${both}<p>More.</p>`)]);
    expect(allText(cleaned[0]!)).toBe('Acme is trusted by 400 finance teams across Europe.');
    expect(allText(cleaned[1]!)).toBe('More.');
  });

  it('removes boilerplate recognisable on a single page, but not long text that mentions it', () => {
    const policy =
      'Our privacy policy explains in detail which cookies we set, why we set them, how long they last, which processors receive the data, how you can withdraw consent at any time, and how to contact our data protection officer about any request you may have regarding your personal data and your rights under the GDPR.';
    const cleaned = removeRepeatedBlocks([page('/privacy', `<h1>Privacy</h1><p>This website uses cookies. <a href="/cookies">Cookie policy</a></p><p>Sign up for our weekly newsletter.</p><p>© 2026 Acme GmbH. All rights reserved.</p><p>${policy}</p>`)]);
    expect(allText(cleaned[0]!)).toBe(policy);
  });

  it('keeps a heading repeated across pages while it still heads content', () => {
    const pages = ['/x', '/y', '/z'].map((path) => page(path, `<h1>Product ${path}</h1><h2>How it works</h2><p>Step-by-step guide number ${path.slice(1)} for this product.</p>`));
    const cleaned = removeRepeatedBlocks(pages);
    expect(cleaned.every((cleanedPage) => cleanedPage.headings.some((heading) => heading.text === 'How it works'))).toBe(true);
  });
});
