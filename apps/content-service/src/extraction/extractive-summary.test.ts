import { describe, expect, it } from '@jest/globals';
import { extractiveSummary } from './extractive-summary.js';
import { extractPage } from './page-extraction.js';
import { removeRepeatedBlocks } from './site-cleaning.js';
import { siteNameOf } from './site-identity.js';
import { splitSentences } from './text-normalization.js';
import { loadCapture, northwindOrigin, northwindPage, northwindPaths, type CaptureName } from './website-fixtures.testing.js';

const northwind = removeRepeatedBlocks(northwindPaths.map((path) => extractPage(northwindPage(path).html, `${northwindOrigin}${path}`)));
const capture = (name: CaptureName) => {
  const { url, html } = loadCapture(name);
  return [extractPage(html, url)];
};

describe('extractiveSummary', () => {
  it('says what Northwind is, from the home page description first', () => {
    const summary = extractiveSummary(northwind);
    expect(summary.startsWith('Northwind Ledger automates account reconciliation and the month-end close for finance teams at mid-market companies.')).toBe(true);
    expect(splitSentences(summary).length).toBeLessThanOrEqual(5);
    expect(summary).not.toMatch(/cookie|newsletter|We are hiring|Senior Backend Engineer/i);
  });

  it('does not repeat itself: the hero sentence that restates the description is left out', () => {
    const summary = extractiveSummary(northwind);
    expect(summary).not.toContain('Northwind Ledger automates account reconciliation, accruals and the month-end close');
    const sentences = splitSentences(summary);
    expect(new Set(sentences).size).toBe(sentences.length);
  });

  it('keeps the sentences in the order the site says them and honours maximumSentences', () => {
    const summary = extractiveSummary(northwind, { maximumSentences: 2 });
    const sentences = splitSentences(summary);
    expect(sentences).toHaveLength(2);
    expect(sentences[0]).toBe('Northwind Ledger automates account reconciliation and the month-end close for finance teams at mid-market companies.');
    expect(extractiveSummary(northwind, { maximumSentences: 0 })).toBe('');
  });

  it('summarises the real landing pages by what they offer', () => {
    expect(extractiveSummary(capture('blossomer.io'))).toMatch(/^Blossomer helps early-stage B2B founders land their first 1000 customers/);
    const panfactum = extractiveSummary(capture('panfactum.com'));
    expect(panfactum).toContain('Deploy, scale, and manage cloud workloads with a pre-built, extensible PaaS framework designed for the full SDLC.');
    // Customer quotes make poor summary sentences.
    expect(panfactum).not.toMatch(/["“]/);
    expect(extractiveSummary(capture('intryc.com'))).toContain('Intryc’s AI-driven automation enhances ticket reviews & agent performance');
  });

  it('returns an empty summary when there is nothing to summarise', () => {
    expect(extractiveSummary([])).toBe('');
    expect(extractiveSummary([extractPage('<p>Hi.</p>', 'https://acme.test/')])).toBe('');
  });
});

describe('siteNameOf', () => {
  it('takes the title part that matches the domain, before og:site_name', () => {
    expect(siteNameOf(northwind)).toBe('Northwind Ledger');
    expect(siteNameOf(capture('blossomer.io'))).toBe('Blossomer');
    // intryc's og:site_name is "Loom", set by the embedded player.
    expect(siteNameOf(capture('intryc.com'))).toBe('Intryc');
    expect(siteNameOf(capture('panfactum.com'))).toBe('Panfactum');
  });
});
