import { describe, expect, it } from '@jest/globals';
import type { CampaignTargeting } from '../campaign-context/campaign-targeting.js';
import type { WebsitePassage } from '../website-analysis/website-analysis.client.js';
import { extractivePersonalization, personalizationSchema, speakableName, type PersonalizationContext } from './personalization.task.js';
import { findQuote, sentencesOf } from './quote-check.js';

const passages: WebsitePassage[] = [
  { pageUrl: 'http://broadway.test/', heading: 'Broadway Auto Brokers', text: 'Quality used cars at honest prices. Browse our inventory online.', score: 0.4 },
  { pageUrl: 'http://broadway.test/about', heading: 'Our story', text: 'Broadway Auto Brokers opened in 1987 with three cars. We are still family owned and answer the phone ourselves.', score: 0.3 },
  { pageUrl: 'http://broadway.test/', heading: 'Serving our community', text: 'We sponsor the local youth baseball league — and were voted the most trusted dealer in Alachua.', score: 0.2 },
];

const context = (overrides: Partial<PersonalizationContext> = {}): PersonalizationContext => ({
  company: { name: 'BROADWAY AUTO BROKERS INC', city: 'ALACHUA', region: 'FL', website: 'http://broadway.test', title: 'Broadway Auto Brokers', summary: 'A used car dealer in Alachua.' },
  contact: { name: 'Rosa Delgado', title: 'Owner' },
  passages,
  campaign: null,
  ...overrides,
});

describe('the extractive opener (no model)', () => {
  it('quotes the company’s most telling sentence verbatim, greets the owner and stays within the schema', () => {
    const opener = extractivePersonalization(context());
    // Community, an award and trust outweigh family ownership alone.
    const sentence = 'We sponsor the local youth baseball league — and were voted the most trusted dealer in Alachua.';
    expect(opener.quotes).toEqual([{ quote: sentence, pageUrl: 'http://broadway.test/' }]);
    expect(opener.hotButtonTopic).toBe('Serving our community');
    expect(opener.subject).toBe('Serving our community at Broadway Auto Brokers');
    expect(opener.iceBreaker).toBe(`Hi Rosa, your website says "${sentence}" That is what made me want to reach out to Broadway Auto Brokers.`);
    expect(personalizationSchema.safeParse(opener).success).toBe(true);
    expect(findQuote(opener.quotes[0]!.quote, passages)?.pageUrl).toBe('http://broadway.test/');

    const familyOnly = extractivePersonalization(context({ passages: passages.slice(0, 2) }));
    expect(familyOnly.quotes[0]).toEqual({ quote: 'We are still family owned and answer the phone ourselves.', pageUrl: 'http://broadway.test/about' });
    expect(familyOnly.hotButtonTopic).toBe('Our story');
  });

  it('ties the opener to the campaign’s seller and pain point when there is one', () => {
    const campaign = { name: 'Dealers', seller: { companyName: 'Northwind Ledger', description: null, painPoints: ['Month-end close takes three weeks.'], useCases: [], differentiators: [] }, targetCompany: null, targetPersona: null } as unknown as CampaignTargeting;
    const opener = extractivePersonalization(context({ campaign, contact: null }));
    expect(opener.iceBreaker).toMatch(/^Hi, your website says ".*" That is why I thought of you: Northwind Ledger helps companies like Broadway Auto Brokers with month-end close takes three weeks\.$/);
    expect(sentencesOf(opener.iceBreaker)).toHaveLength(2);
  });

  it('speaks of the company as people do', () => {
    expect(speakableName('BROADWAY AUTO BROKERS INC')).toBe('Broadway Auto Brokers');
    expect(speakableName('Panfactum, LLC')).toBe('Panfactum');
  });
});

describe('checking quotes against the crawled passages', () => {
  it('finds a quote word for word whatever its case, quotes, dashes and spacing, and points to its page', () => {
    expect(findQuote('we sponsor the local youth baseball league - and were voted', passages)?.heading).toBe('Serving our community');
    expect(findQuote('“Broadway Auto Brokers opened in 1987 … still family owned”', passages)?.pageUrl).toBe('http://broadway.test/about');
  });

  it('refuses a paraphrase, an invention and a fragment too short to mean anything', () => {
    expect(findQuote('We have been family owned since 1987.', passages)).toBeNull();
    expect(findQuote('We sold more cars than anyone in Florida.', passages)).toBeNull();
    expect(findQuote('cars', passages)).toBeNull();
  });

  it('counts sentences as a reader does', () => {
    expect(sentencesOf('Hi Rosa, your site says "We are family owned." That stood out. Can we talk?')).toHaveLength(3);
    expect(sentencesOf('Broadway Auto Brokers Inc. opened on N.W. Hwy. 441 in 1987 with J. D. Sanders. It is still there.')).toEqual([
      'Broadway Auto Brokers Inc. opened on N.W. Hwy. 441 in 1987 with J. D. Sanders.',
      'It is still there.',
    ]);
  });
});
