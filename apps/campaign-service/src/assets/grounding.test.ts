import { describe, expect, it } from '@jest/globals';
import type { WebsitePassage } from './asset-context.js';
import { AssetKind } from './asset-kind.js';
import { notStated, type AssetSource } from './asset-schemas.js';
import { checkGrounding, claimFieldsOf, dropUnsupportedSources, groundedConfidence, type GroundingReport } from './grounding.js';
import { contextOf } from './website-captures.fixture.js';

const intryc = contextOf('intryc.com').passages;
const site = 'https://intryc.com';
const source = (quote: string, url = site): AssetSource => ({ url, quote });

describe('checkGrounding', () => {
  it('finds quotes copied from a passage, whatever their whitespace, case, quotation marks, dashes and markdown', () => {
    const quotes = [
      'QA Specialists reduce evaluation time by more than 50% with Intryc.',
      // Curly apostrophe on the site, straight here; doubled space on the site, single here.
      "See Intryc's full potential",
      'integrate fast. evaluate faster.',
      // An em dash on the site, a hyphen here.
      'reduced time spent on mundane tasks like ticket selection by 90%-which is even more impressive',
      // A markdown link label with bold and line breaks, read as plain text.
      'Sampling Stop wasting hours on sampling.',
      // Words left out with an ellipsis: the pieces must still be there, in order.
      'Traditional QA methods are time-consuming … data-driven improvements.',
    ];
    const report = checkGrounding({ sources: quotes.map((quote) => source(quote)) }, intryc);
    expect(report.unsupported).toEqual([]);
    expect(report.supported.map((found) => found.quote)).toEqual(quotes);
  });

  it('flags paraphrases, inventions and pieces out of order', () => {
    const report = checkGrounding(
      {
        sources: [
          source('Intryc covers every ticket automatically.'),
          source('Trusted by 500 support teams.'),
          source('data-driven improvements … Traditional QA methods'),
          source('QA Specialists reduce evaluation time by more than 50% with Intryc.'),
        ],
      },
      intryc,
    );
    expect(report.unsupported.map((found) => found.quote)).toEqual(['Intryc covers every ticket automatically.', 'Trusted by 500 support teams.', 'data-driven improvements … Traditional QA methods']);
    expect(report.supported).toHaveLength(1);
  });

  it('tells a quote found on another page from one not found at all, and ignores trailing slashes, www. and case in addresses', () => {
    const passages: WebsitePassage[] = [
      { pageUrl: 'https://acme.example/pricing', heading: 'Pricing', text: 'Plans start at $49 per month.', score: 1 },
      { pageUrl: 'https://acme.example/', heading: 'Home', text: 'Acme builds dashboards.', score: 0.9 },
    ];
    const report = checkGrounding({ sources: [source('Plans start at $49 per month.', 'https://acme.example'), source('Acme builds dashboards.', 'https://WWW.acme.example')] }, passages);
    expect(report.misattributed).toEqual([{ source: source('Plans start at $49 per month.', 'https://acme.example'), foundAt: 'https://acme.example/pricing' }]);
    expect(report.supported).toEqual([source('Acme builds dashboards.', 'https://WWW.acme.example')]);
    expect(report.unsupported).toEqual([]);
  });

  it('given a kind, lists claims no passage supports, by the path a correction would use', () => {
    const overview = {
      keyFeatures: ['Custom scorecards based on internal knowledge', 'Blockchain payroll for dentists'],
      useCases: [],
      painPoints: [notStated],
      customerProfiles: ['QA Team Lead at Blueground'],
      differentiators: [],
      sources: [],
    };
    const report = checkGrounding(overview, intryc, { kind: AssetKind.PRODUCT_OVERVIEW });
    expect(report.checkedClaims).toBe(3);
    expect(report.unsupportedClaims).toEqual([{ fieldPath: 'keyFeatures[1]', text: 'Blockchain payroll for dentists' }]);
    const positioning = { differentiators: [], valuePropositions: [{ theme: 't', description: 'd', evidence: 'Customers cut churn by 73% in a month.' }], sources: [] };
    expect(checkGrounding(positioning, intryc, { kind: AssetKind.POSITIONING }).unsupportedClaims).toEqual([{ fieldPath: 'valuePropositions[0].evidence', text: 'Customers cut churn by 73% in a month.' }]);
    expect(claimFieldsOf(AssetKind.EMAIL_SEQUENCE)).toEqual([]);
  });
});

const report = (supported: number, unsupported: number, claims: { checked: number; lacking: number } = { checked: 0, lacking: 0 }): GroundingReport => ({
  supported: Array.from({ length: supported }, (_, index) => source(`found ${index}`)),
  misattributed: [],
  unsupported: Array.from({ length: unsupported }, (_, index) => source(`invented ${index}`)),
  unsupportedClaims: Array.from({ length: claims.lacking }, (_, index) => ({ fieldPath: `keyFeatures[${index}]`, text: 'x' })),
  checkedClaims: claims.checked,
});

describe('groundedConfidence', () => {
  it('keeps the provider confidence when every quote is found', () => {
    expect(groundedConfidence(0.3, report(4, 0))).toBe(0.3);
    expect(groundedConfidence(undefined, report(4, 0))).toBe(0.8);
    expect(groundedConfidence(undefined, report(4, 0), { modelConfidence: 0.9 })).toBe(0.9);
  });

  it('lowers it in proportion to unsupported quotes, to half when none is found', () => {
    expect(groundedConfidence(0.8, report(2, 2))).toBe(0.6);
    expect(groundedConfidence(0.8, report(0, 3))).toBe(0.4);
    expect(groundedConfidence(0.8, report(3, 1))).toBeLessThan(0.8);
  });

  it('halves it for an asset that cites nothing, and lowers it for unsupported claims', () => {
    expect(groundedConfidence(0.8, report(0, 0))).toBe(0.4);
    expect(groundedConfidence(0.8, report(0, 0), { noSourcesFactor: 0.25 })).toBe(0.2);
    expect(groundedConfidence(0.8, report(2, 0, { checked: 4, lacking: 2 }))).toBe(0.6);
  });
});

describe('dropUnsupportedSources', () => {
  it('keeps found quotes, re-points misattributed ones and leaves the asset as it was', () => {
    const passages: WebsitePassage[] = [{ pageUrl: 'https://acme.example/pricing', heading: 'Pricing', text: 'Plans start at $49 per month.', score: 1 }];
    const asset = { pricing: 'x', sources: [source('Plans start at $49 per month.', 'https://acme.example'), source('Free forever.', 'https://acme.example/pricing')] };
    const before = structuredClone(asset);
    const cleaned = dropUnsupportedSources(asset, checkGrounding(asset, passages));
    expect(cleaned).toEqual({ pricing: 'x', sources: [source('Plans start at $49 per month.', 'https://acme.example/pricing')] });
    expect(asset).toEqual(before);
  });
});
