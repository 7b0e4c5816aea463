import { describe, expect, it } from '@jest/globals';
import { extractPage } from './page-extraction.js';
import { removeRepeatedBlocks } from './site-cleaning.js';
import { findSiteFacts, type Evidence } from './site-facts.js';
import { loadCapture, northwindOrigin, northwindPage, northwindPaths, type CaptureName } from './website-fixtures.testing.js';

const texts = (evidence: readonly Evidence[]) => evidence.map((item) => item.text);
const northwindFacts = findSiteFacts(removeRepeatedBlocks(northwindPaths.map((path) => extractPage(northwindPage(path).html, `${northwindOrigin}${path}`))));
const captureFacts = (name: CaptureName) => {
  const { url, html } = loadCapture(name);
  return findSiteFacts([extractPage(html, url)]);
};

describe('findSiteFacts on the Northwind site', () => {
  it('finds what it is, first from the home page description', () => {
    expect(northwindFacts.whatItIs[0]).toEqual({
      pageUrl: `${northwindOrigin}/`,
      text: 'Northwind Ledger automates account reconciliation and the month-end close for finance teams at mid-market companies.',
    });
  });

  it('finds for whom: finance teams, mid-market, company size, industries', () => {
    expect(texts(northwindFacts.forWhom)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('for finance teams at mid-market B2B companies with 200 to 2,000 employees'),
        'Finance teams in logistics, SaaS and healthcare close faster with Northwind Ledger.',
      ]),
    );
    // The team's own past on the about page is not the audience.
    expect(texts(northwindFacts.forWhom).join('\n')).not.toContain('Led mid-market sales');
  });

  it('finds features on the product page first, then the home page’s lists', () => {
    const features = texts(northwindFacts.features);
    expect(features[0]).toMatch(/^Northwind Ledger matches bank, card and Stripe transactions/);
    expect(features).toEqual(expect.arrayContaining(['NetSuite', 'Connect NetSuite, Sage Intacct and QuickBooks in minutes']));
    expect(northwindFacts.features.every((item) => !item.pageUrl.endsWith('/pricing') && !item.pageUrl.endsWith('/careers'))).toBe(true);
  });

  it('finds proof: the testimonial, customer results, certification and funding', () => {
    expect(texts(northwindFacts.proof)).toEqual(
      expect.arrayContaining([
        '“We cut our close from 11 days to 4 in the first quarter.” — Dana Whitfield, Controller at Brightline Logistics',
        expect.stringMatching(/^Brightline Logistics, a 900-person freight company, cut its month-end close from 11 days to 4 days/),
        'SOC 2 Type II audited.',
        'We have raised a $24M Series A led by Foundry Peak Ventures.',
      ]),
    );
  });

  it('finds pricing: the plans, the trial, and no funding amounts', () => {
    const pricing = texts(northwindFacts.pricing);
    expect(pricing.slice(0, 3)).toEqual(['$49 per user per month, billed annually.', 'Bank reconciliation and close checklist for teams up to 5 users.', '$99 per user per month, billed annually.']);
    expect(pricing).toEqual(expect.arrayContaining(['Custom pricing.', 'Every plan starts with a 14-day free trial.']));
    expect(pricing.join('\n')).not.toContain('$24M');
  });

  it('quotes each passage once per fact, at most maximumPerFact of them', () => {
    for (const evidence of Object.values(northwindFacts)) expect(new Set(texts(evidence)).size).toBe(evidence.length);
    const limited = findSiteFacts([extractPage(northwindPage('/pricing').html, `${northwindOrigin}/pricing`)], { maximumPerFact: 2 });
    expect(limited.pricing).toHaveLength(2);
  });
});

describe('findSiteFacts on real landing pages', () => {
  it('blossomer.io: what it is and for whom, no proof or pricing invented', () => {
    const facts = captureFacts('blossomer.io');
    expect(facts.whatItIs[0]?.text).toMatch(/^Blossomer helps early-stage B2B founders land their first 1000 customers/);
    expect(texts(facts.forWhom)).toContain('We help early-stage B2B founders get their first 1000 customers without hiring a sales team.');
    expect(texts(facts.features)).toContain('Hyper-precise targeting using real-time buying signals');
    expect(facts.proof).toEqual([]);
    expect(facts.pricing).toEqual([]);
  });

  it('intryc.com: testimonials without quotation marks are proof, not product claims', () => {
    const facts = captureFacts('intryc.com');
    expect(texts(facts.proof)).toContainEqual(expect.stringMatching(/^Since adopting Intryc, we've increased our audit output by 40%/));
    expect(texts(facts.proof)).toContainEqual(expect.stringMatching(/^Intryc is the most flexible and dynamic QA tool I've ever worked with/));
    expect(texts(facts.whatItIs).join('\n')).not.toMatch(/I've ever worked with|Since adopting/);
    expect(texts(facts.forWhom)).toContain('CS Quality Assurance Lead');
  });

  it('panfactum.com: the product named in a heading, customer quotes as proof', () => {
    const facts = captureFacts('panfactum.com');
    expect(texts(facts.whatItIs)).toContain('Panfactum Cloud Native Framework (PCNF)');
    expect(texts(facts.proof)).toContain('"The cost savings are so extreme that we are paying more per month for DataDog than AWS."');
  });
});

describe('findSiteFacts on logos', () => {
  it('counts customer logos as proof, but not the company’s own', () => {
    const page = extractPage(
      `<html><head><title>Acme — close faster</title></head><body><main><img src="/acme-logo.svg" alt="Acme logo"><h1>Acme</h1><p>Acme is the close platform for finance teams.</p>
       <section class="logos"><h2>Trusted by</h2><img src="/a.png" alt="Brightline Logistics"><img src="/b.png" alt="Cobalt Health logo"><img src="/c.png" alt="Company"></section></main></body></html>`,
      'https://acme.test/',
    );
    expect(page.logos).toEqual(['Acme', 'Brightline Logistics', 'Cobalt Health']);
    expect(texts(findSiteFacts([page]).proof)).toEqual(['Logo: Brightline Logistics', 'Logo: Cobalt Health']);
  });
});
