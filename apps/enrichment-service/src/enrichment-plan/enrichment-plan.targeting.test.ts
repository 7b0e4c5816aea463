import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { campaignTargetingFromRepresentation, parseBudget, parseCampaignTargeting, parseNumberRange } from './enrichment-plan.targeting.js';

function badInput(action: () => unknown): { message: string; field: unknown; code: unknown } {
  try {
    action();
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return { message: error.message, field: error.extensions['field'], code: error.extensions['code'] };
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('ranges', () => {
  it('reads the ways people write employee and revenue ranges', () => {
    expect(parseNumberRange('51-200')).toEqual({ min: 51, max: 200 });
    expect(parseNumberRange('1,000–5,000 employees')).toEqual({ min: 1000, max: 5000 });
    expect(parseNumberRange('200+')).toEqual({ min: 200, max: null });
    expect(parseNumberRange('over 1,000')).toEqual({ min: 1000, max: null });
    expect(parseNumberRange('under $5M')).toEqual({ min: 0, max: 5_000_000 });
    expect(parseNumberRange('$10M-$50M')).toEqual({ min: 10_000_000, max: 50_000_000 });
    expect(parseNumberRange('10M-50M')).toEqual({ min: 10_000_000, max: 50_000_000 });
    expect(parseNumberRange('1.5k to 3k')).toEqual({ min: 1500, max: 3000 });
    expect(parseNumberRange('$1B+')).toEqual({ min: 1_000_000_000, max: null });
    expect(parseNumberRange('10 - 50')).toEqual({ min: 10, max: 50 });
    expect(parseNumberRange('Mid-market')).toBeNull();
  });

  it('refuses negative numbers and a minimum above the maximum', () => {
    expect(() => parseNumberRange('-5 to 10')).toThrow('must not be negative');
    expect(() => parseNumberRange('between -5 and 10')).toThrow('must not be negative');
    expect(() => parseNumberRange('$-3M')).toThrow('must not be negative');
    expect(() => parseNumberRange('500-50')).toThrow('has its minimum (500) above its maximum (50)');
  });
});

describe('targeting input', () => {
  it('trims, drops blanks and fills what is missing', () => {
    expect(parseCampaignTargeting({ industries: [' SaaS ', ' '], employeeRange: '  ', jobTitles: ['CTO'], buyingSignals: [{ type: ' HIRING ' }] })).toEqual({
      industries: ['SaaS'],
      employeeRange: null,
      revenueRange: null,
      geographies: [],
      businessModel: null,
      fundingStage: null,
      keywords: [],
      buyingSignals: [{ type: 'HIRING', priority: null }],
      jobTitles: ['CTO'],
      departments: [],
      seniority: [],
    });
  });

  it('refuses absurd or malformed values with BAD_USER_INPUT naming the field', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ employeeRange: '-10 to 50' }, 'targeting.employeeRange', /must not be negative/],
      [{ employeeRange: '1-50,000,000' }, 'targeting.employeeRange', /must be at most 10,000,000 employees/],
      [{ employeeRange: '500-50' }, 'targeting.employeeRange', /minimum \(500\) above its maximum \(50\)/],
      [{ revenueRange: '$20T+' }, 'targeting.revenueRange', /must be at most 10,000,000,000,000 USD/],
      [{ industries: Array.from({ length: 51 }, (_, index) => `Industry ${index}`) }, 'targeting.industries', /at most 50 entries/],
      [{ jobTitles: ['x'.repeat(201)] }, 'targeting.jobTitles.0', /at most 200 characters/],
      [{ buyingSignals: [{ type: '  ' }] }, 'targeting.buyingSignals.0.type', /must not be empty/],
    ];
    for (const [input, field, message] of cases) {
      const error = badInput(() => parseCampaignTargeting(input));
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error.message).toMatch(message);
      expect(error.message.startsWith(field)).toBe(true);
    }
  });

  it('takes a budget from 0 to 100 USD per record, 0.25 by default', () => {
    expect(parseBudget(undefined)).toBe(0.25);
    expect(parseBudget(null)).toBe(0.25);
    expect(parseBudget(0)).toBe(0);
    expect(parseBudget(100)).toBe(100);
    expect(badInput(() => parseBudget(-0.01))).toMatchObject({ field: 'budgetUsdPerRecord', message: 'budgetUsdPerRecord must not be negative.' });
    expect(badInput(() => parseBudget(1000))).toMatchObject({ field: 'budgetUsdPerRecord', message: 'budgetUsdPerRecord must be at most 100 USD per record.' });
  });
});

describe('Campaign representation → targeting', () => {
  it('maps the fields campaign-service resolves for @requires', () => {
    const firmographics = {
      industries: ['Logistics', 'Manufacturing'],
      employeeRange: '200-1,000',
      revenueRange: '$50M-$500M',
      geographies: ['Germany', 'Austria'],
      businessModel: 'B2B',
      fundingStage: 'Private equity backed',
      keywords: ['fleet', 'telematics'],
    };
    const buyingSignals = [
      { type: 'HIRING', priority: 'HIGH' },
      { type: 'TECHNOLOGY_ADOPTION', priority: 'LOW' },
    ];
    const targetPersona = { jobTitles: ['Head of Operations'], departments: ['Operations'], seniority: ['Director'] };
    const targeting = campaignTargetingFromRepresentation({ targetCompany: { firmographics, buyingSignals }, targetPersona });
    expect(targeting).toEqual({ ...firmographics, buyingSignals, ...targetPersona });
  });

  it('is lenient about shapes campaign-service may still settle on', () => {
    const targeting = campaignTargetingFromRepresentation({
      targetCompany: {
        firmographics: { employeeRange: { min: 50, max: 250 }, revenueRange: { min: 1_000_000, max: null }, fundingStage: ['Seed', 'Series A'], industries: null },
        buyingSignals: [{ title: 'Opening a new office', priority: 1 }, null, { type: null, title: null }],
      },
      targetPersona: { seniority: 'VP' },
    });
    expect(targeting).toMatchObject({
      employeeRange: '50-250',
      revenueRange: '1000000+',
      fundingStage: 'Seed, Series A',
      industries: [],
      buyingSignals: [{ type: 'Opening a new office', priority: '1' }],
      seniority: ['VP'],
      jobTitles: [],
    });
  });

  it('is null while the campaign has neither a target company nor a target persona', () => {
    expect(campaignTargetingFromRepresentation({})).toBeNull();
    expect(campaignTargetingFromRepresentation({ targetCompany: null, targetPersona: null })).toBeNull();
    expect(campaignTargetingFromRepresentation({ targetPersona: { jobTitles: ['CFO'] } })).toMatchObject({ jobTitles: ['CFO'], industries: [] });
  });

  it('names the campaign’s field when its data is unusable', () => {
    const error = badInput(() => campaignTargetingFromRepresentation({ targetCompany: { firmographics: { employeeRange: '-5 to 10' } } }));
    expect(error).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'targetCompany.firmographics.employeeRange',
      message: 'Campaign targetCompany.firmographics.employeeRange must not be negative.',
    });
    const titles = badInput(() => campaignTargetingFromRepresentation({ targetPersona: { jobTitles: ['x'.repeat(300)] } }));
    expect(titles.field).toBe('targetPersona.jobTitles.0');
  });
});
