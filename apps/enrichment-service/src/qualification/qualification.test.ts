import { describe, expect, it } from '@jest/globals';
import type { CampaignTargeting } from '../campaign-context/campaign-targeting.js';
import { tierOf } from '../enrichment-record/enrichment-results.js';
import { offlineQualification } from './qualification.task.js';
import { scoreSignals, type QualificationEvidence } from './qualification-signals.js';

const campaign = (industries: string[], geographies: string[], jobTitles: string[], disqualifiers: string[] = []): CampaignTargeting => ({
  id: 'c',
  name: 'Test campaign',
  seller: { companyName: 'Northwind', description: null, painPoints: [], useCases: [], differentiators: [] },
  targetCompany: { name: 'Dealers', description: '', industries, geographies, employeeRange: null, keywords: [], disqualifiers, buyingSignals: [] },
  targetPersona: { name: 'Owner', jobTitles, seniority: ['OWNER'], departments: [], goals: [] },
});

const dealer = (overrides: Partial<QualificationEvidence> = {}): QualificationEvidence => ({
  company: { name: 'BROADWAY AUTO BROKERS INC', city: 'ALACHUA', region: 'FL', country: null, postalCode: '32615' },
  input: { 'LIC TYPE': 'VI', COUNTY: 'ALACHUA' },
  website: { url: 'http://broadway.test', confidence: 0.97 },
  siteText: 'Broadway Auto Brokers | used cars in Alachua. Family owned dealership: quality used cars, financing and service.',
  siteQuality: 'PARTIAL',
  contacts: [{ name: 'Rosa Delgado', title: 'Owner', email: 'rosa@broadway.test', phone: null, linkedinUrl: null, source: 'http://broadway.test/about', seniority: 'OWNER' }],
  companyEmails: [],
  companyPhones: ['(352) 415-0010'],
  campaign: campaign(['Used car dealerships'], ['Florida'], ['Owner', 'General Manager']),
  ...overrides,
});

describe('qualifying against the campaign’s targeting', () => {
  it('scores a Florida dealer with its owner found high for a Florida dealer campaign', () => {
    const scored = scoreSignals(dealer());
    expect(scored.basis).toBe('CAMPAIGN');
    expect(tierOf(scored.score)).toBe('A');
    expect(scored.fits).toEqual(['industry (Used car dealerships)', 'geography', 'persona']);
    expect(scored.signals).toEqual(expect.arrayContaining(['Industry fits: Used car dealerships', 'In a target geography (ALACHUA, FL)', 'Persona match: Rosa Delgado, Owner']));
  });

  it('scores the same dealer low for dental clinics in California', () => {
    const scored = scoreSignals(dealer({ campaign: campaign(['Dental clinics'], ['California'], ['Practice Manager']) }));
    expect(['C', 'D']).toContain(tierOf(scored.score));
    expect(scored.misses).toEqual(['industry (wanted Dental clinics)', 'geography (wanted California)']);
  });

  it('takes a disqualifier off, and a country-wide geography in', () => {
    const fit = scoreSignals(dealer({ campaign: campaign(['Used car dealerships'], ['United States'], ['Owner']) }));
    const disqualified = scoreSignals(dealer({ campaign: campaign(['Used car dealerships'], ['United States'], ['Owner'], ['Family owned dealership']) }));
    expect(fit.fits).toContain('geography');
    expect(fit.score - disqualified.score).toBe(30);
    expect(disqualified.signals).toContain('Disqualifier: Family owned dealership');
  });

  it('measures a record without a campaign against its own data, and says so', () => {
    const withSite = scoreSignals(dealer({ campaign: null }));
    const bare = scoreSignals(dealer({ campaign: null, website: null, siteText: '', siteQuality: null, contacts: [], companyPhones: [] }));
    expect(withSite.basis).toBe('DATA');
    expect(withSite.score).toBeGreaterThan(bare.score + 50);
    expect(tierOf(bare.score)).toBe('D');
    const offline = offlineQualification(dealer({ campaign: null }));
    expect(offline.reasoning).toMatch(/^Tier [AB] \(\d+\/100\) against what the list and the website show\. Fits on a confirmed website, a decision maker\.$/);
    expect(offline.confidence).toBeLessThanOrEqual(0.3);
  });

  it('puts the tier boundaries at 75, 55 and 35', () => {
    expect([100, 75, 74, 55, 54, 35, 34, 0].map(tierOf)).toEqual(['A', 'A', 'B', 'B', 'C', 'C', 'D', 'D']);
  });
});
