import { describe, expect, it } from '@jest/globals';
import { chunkPages, type ContentChunkDraft } from './chunking.js';
import { extractPage } from './page-extraction.js';
import { removeRepeatedBlocks } from './site-cleaning.js';
import { countWords } from './text-normalization.js';
import { loadCapture, northwindOrigin, northwindPage, northwindPaths } from './website-fixtures.testing.js';

const page = (path: string, body: string, head = '') => extractPage(`<html><head>${head}</head><body>${body}</body></html>`, `https://acme.test${path}`);
const sentence = (index: number) => `Sentence number ${index} explains one more detail of how the close platform reconciles accounts for finance teams.`;

describe('chunkPages on the Northwind site', () => {
  const pages = removeRepeatedBlocks(northwindPaths.map((path) => extractPage(northwindPage(path).html, `${northwindOrigin}${path}`)));
  const chunks = chunkPages(pages);
  const ofPage = (path: string) => chunks.filter((chunk) => chunk.pageUrl === `${northwindOrigin}${path}`);

  it('gives every page its chunks, in page order, numbered from 0 within the page', () => {
    expect([...new Set(chunks.map((chunk) => chunk.pageUrl))]).toEqual(northwindPaths.map((path) => `${northwindOrigin}${path}`));
    for (const path of northwindPaths) expect(ofPage(path).map((chunk) => chunk.position)).toEqual(ofPage(path).map((_chunk, index) => index));
  });

  it('merges the small sections under one heading, keeping their headings as lines', () => {
    expect(ofPage('/pricing')).toEqual([
      {
        pageUrl: `${northwindOrigin}/pricing`,
        headingPath: [],
        heading: 'Pricing — Northwind Ledger',
        text: [
          'Plans for growing finance teams, from 49 dollars per user per month.',
          'Pricing > Starter',
          '$49 per user per month, billed annually. Bank reconciliation and close checklist for teams up to 5 users.',
          'Pricing > Growth',
          '$99 per user per month, billed annually. Everything in Starter plus variance analysis, NetSuite and Sage Intacct integrations.',
          'Pricing > Enterprise',
          'Custom pricing. Multi-entity consolidation, SSO, a dedicated implementation manager and a 99.9% uptime SLA.',
          'Pricing',
          'Every plan starts with a 14-day free trial. No credit card required.',
        ].join('\n'),
        position: 0,
        tokenEstimate: expect.any(Number),
      },
    ]);
  });

  it('keeps the page’s own heading path when nothing is merged into it', () => {
    const about = ofPage('/about');
    expect(about).toHaveLength(1);
    expect(about[0]!.text).toContain('Our team > Maya Okafor\nCo-founder & CEO');
    const chunksWithoutDescription = chunkPages(pages, { includeDescription: false });
    expect(chunksWithoutDescription.find((chunk) => chunk.pageUrl.endsWith('/careers'))).toMatchObject({ headingPath: ['Careers'], heading: 'Careers', position: 0 });
  });

  it('never puts cleaned-away boilerplate into a chunk', () => {
    for (const chunk of chunks) expect(chunk.text).not.toMatch(/We use cookies|month-end newsletter|© 2026/);
  });

  it('estimates tokens at about four characters each', () => {
    for (const chunk of chunks) expect(chunk.tokenEstimate).toBe(Math.ceil(chunk.text.length / 4));
  });
});

const withinLimit = (chunks: readonly ContentChunkDraft[], maximumWords: number) => chunks.every((chunk) => countWords(chunk.text) <= maximumWords);

describe('chunkPages limits', () => {
  it('splits a long section at paragraph boundaries into as few, as even chunks as the limit allows', () => {
    const paragraphs = Array.from({ length: 7 }, (_value, index) => `<p>${[0, 1, 2, 3].map((offset) => sentence(index * 4 + offset)).join(' ')}</p>`);
    const chunks = chunkPages([page('/', `<h1>Close platform</h1>${paragraphs.join('')}`)], { maximumWords: 220 });
    // Seven paragraphs of 68 words: three chunks of 2, 2 and 3 paragraphs, not 3 + 3 + 1.
    expect(chunks.map((chunk) => countWords(chunk.text)).toSorted((first, second) => first - second)).toEqual([136, 136, 204]);
    expect(chunks.flatMap((chunk) => chunk.text.split('\n'))).toHaveLength(7);
    expect(chunks.every((chunk) => chunk.headingPath.join() === 'Close platform' && chunk.heading === 'Close platform')).toBe(true);
  });

  it('splits a huge single paragraph at sentence boundaries and keeps every word in order', () => {
    const text = Array.from({ length: 120 }, (_value, index) => sentence(index)).join(' ');
    const chunks = chunkPages([page('/', `<h2>Details</h2><p>${text}</p>`)], { maximumWords: 100, minimumWords: 20 });
    expect(chunks.length).toBeGreaterThanOrEqual(23);
    expect(withinLimit(chunks, 100)).toBe(true);
    for (const chunk of chunks) expect(chunk.text).toMatch(/^Sentence number \d+ [\s\S]*teams\.$/);
    expect(chunks.map((chunk) => chunk.text.replaceAll('\n', ' ')).join(' ')).toBe(text);
  });

  it('cuts a run of words without any sentence end at the word limit', () => {
    const words = Array.from({ length: 1000 }, (_value, index) => `token${index}`);
    const chunks = chunkPages([page('/', `<p>${words.join(' ')}</p>`)], { maximumWords: 150 });
    expect(withinLimit(chunks, 150)).toBe(true);
    expect(chunks.flatMap((chunk) => chunk.text.split(/\s+/))).toEqual(words);
  });

  it('merges tiny sections only with neighbours under the same heading, and never across pages', () => {
    const first = page('/a', '<h1>Platform</h1><h2>Sync</h2><p>Syncs ledgers nightly.</p><h2>Alerts</h2><p>Alerts on variances.</p><h1>Company</h1><p>Founded in Berlin.</p>');
    const second = page('/b', '<h1>Platform</h1><p>Second page text.</p>');
    const chunks = chunkPages([first, second], { includeDescription: false });
    expect(chunks.map(({ pageUrl, headingPath, text }) => ({ pageUrl, headingPath, text }))).toEqual([
      { pageUrl: 'https://acme.test/a', headingPath: ['Platform'], text: 'Sync\nSyncs ledgers nightly.\nAlerts\nAlerts on variances.' },
      { pageUrl: 'https://acme.test/a', headingPath: ['Company'], text: 'Founded in Berlin.' },
      { pageUrl: 'https://acme.test/b', headingPath: ['Platform'], text: 'Second page text.' },
    ]);
  });

  it('adds a meta description the text does not say, once per site', () => {
    const head = '<meta name="description" content="Acme automates the month-end close.">';
    const chunks = chunkPages([page('/', '<h1>Acme</h1><p>Close faster.</p>', head), page('/b', '<h1>B</h1><p>Other page.</p>', head), page('/c', '<p>Acme automates the month-end close.</p>', '<meta name="description" content="Acme automates the month-end close!">')]);
    expect(chunks.map((chunk) => chunk.text)).toEqual(['Acme automates the month-end close.\nAcme\nClose faster.', 'Other page.', 'Acme automates the month-end close.']);
  });

  it('returns nothing for pages without content', () => {
    expect(chunkPages([page('/', '<script>var a = 1;</script>')])).toEqual([]);
    expect(chunkPages([])).toEqual([]);
  });

  it('chunks a real landing page within the limits, every chunk from that page', () => {
    const { url, html } = loadCapture('intryc.com');
    const chunks = chunkPages([extractPage(html, url)]);
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(withinLimit(chunks, 220)).toBe(true);
    expect(chunks.every((chunk) => chunk.pageUrl === url)).toBe(true);
    expect(chunks.some((chunk) => chunk.text.includes('Stay on top of everything\nGet a high-level overview of your recent tickets'))).toBe(true);
  });
});
