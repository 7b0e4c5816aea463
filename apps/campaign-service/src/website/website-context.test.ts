import { describe, expect, it } from '@jest/globals';
import { AssetKind, retrievalQueriesOf, type WebsitePassage } from '../assets/index.js';
import { companyNameFromTitle, passagesForKind, retrievalQueriesFor, type WebsiteContext } from './website-context.js';

const passage = (text: string, pageUrl = 'https://acme.example'): WebsitePassage => ({ text, pageUrl, heading: text.split(' ')[0]!, score: 0.5 });

describe('passagesForKind', () => {
  it('interleaves each query\'s results rank by rank, most important query first, each passage once', () => {
    const [first, second, third] = retrievalQueriesOf(AssetKind.POSITIONING);
    const context: WebsiteContext = {
      url: 'https://acme.example',
      title: null,
      summary: null,
      analyzedAt: null,
      quality: { level: 'SUFFICIENT', score: 0.9, gaps: [] },
      searches: {
        [first!]: [passage('why us'), passage('unique approach')],
        [second!]: [passage('versus spreadsheets'), passage('why us')],
        [third!]: [passage('40% faster')],
      },
    };
    expect(passagesForKind(context, AssetKind.POSITIONING).map((item) => item.text)).toEqual(['why us', 'versus spreadsheets', '40% faster', 'unique approach']);
  });
});

describe('retrievalQueriesFor', () => {
  it('asks each search once for several kinds', () => {
    const queries = retrievalQueriesFor([AssetKind.PRODUCT_OVERVIEW, AssetKind.TARGET_COMPANY]);
    expect(new Set(queries).size).toBe(queries.length);
    expect(queries).toEqual(expect.arrayContaining([...retrievalQueriesOf(AssetKind.PRODUCT_OVERVIEW), ...retrievalQueriesOf(AssetKind.TARGET_COMPANY)]));
    // "customers trusted by case studies logos" serves both.
    expect(queries.length).toBeLessThan(retrievalQueriesOf(AssetKind.PRODUCT_OVERVIEW).length + retrievalQueriesOf(AssetKind.TARGET_COMPANY).length);
  });
});

describe('companyNameFromTitle', () => {
  it.each([
    ['Northwind Ledger — the month-end close on autopilot', 'Northwind Ledger'],
    ['Home | Acme', 'Acme'],
    ['Pricing - Blossomer', 'Blossomer'],
    ['Intryc: QA for support teams', 'Intryc'],
  ])('reads the name from %p', (title, name) => {
    expect(companyNameFromTitle(title)).toBe(name);
  });

  it.each([[null], ['AI-powered outbound for early-stage B2B founders'], ['Home | Welcome']])('finds none in %p', (title) => {
    expect(companyNameFromTitle(title)).toBeNull();
  });
});
