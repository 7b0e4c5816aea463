import { describe, expect, it } from '@jest/globals';
import { AssetKind } from './asset-kind.js';
import { assetTaskOf } from './asset-tasks.js';
import { applyUserContext, parseUserContext } from './user-context.js';
import { contextOf } from './website-captures.fixture.js';

const context = contextOf('blossomer.io');
const overview = assetTaskOf(AssetKind.PRODUCT_OVERVIEW).offline(context);
const company = assetTaskOf(AssetKind.TARGET_COMPANY).offline(context);
const persona = assetTaskOf(AssetKind.TARGET_PERSONA).offline(context);
const sequence = assetTaskOf(AssetKind.EMAIL_SEQUENCE).offline(context);

describe('parseUserContext', () => {
  it('reads "field: value" lines, with or without the asset, and skips prose', () => {
    expect(parseUserContext('We sell to seed-stage SaaS.\n- pricing: From $2,000 per month\ntarget company.firmographics.industries: SaaS; Fintech\nhttps://blossomer.io')).toEqual([
      { kind: null, fieldPath: 'pricing', value: 'From $2,000 per month', fromLine: true, line: 2 },
      { kind: AssetKind.TARGET_COMPANY, fieldPath: 'firmographics.industries', value: 'SaaS; Fintech', fromLine: true, line: 3 },
      { kind: null, fieldPath: 'https', value: '//blossomer.io', fromLine: true, line: 4 },
    ]);
    expect(parseUserContext(null)).toEqual([]);
    expect(parseUserContext('   ')).toEqual([]);
  });

  it('reads one JSON object, asset by asset or field by field', () => {
    expect(parseUserContext('{"productOverview": {"pricing": "Custom quotes"}, "TARGET_PERSONA.goals": ["Book 20 meetings a month"]}')).toEqual([
      { kind: AssetKind.PRODUCT_OVERVIEW, fieldPath: 'pricing', value: 'Custom quotes', fromLine: false, line: 0 },
      { kind: AssetKind.TARGET_PERSONA, fieldPath: 'goals', value: ['Book 20 meetings a month'], fromLine: false, line: 0 },
    ]);
  });
});

describe('applyUserContext: the user wins over what was generated', () => {
  const notes = [
    'Our clients are mostly seed-stage SaaS companies.',
    'pricing: From $2,000 per month',
    'Key Features: Lead lists; Copywriting; Deliverability',
    'description: Done-for-you outbound for B2B founders.',
    'target company.firmographics.industries: SaaS, Fintech',
    'targetPersona.seniority: owner, c level',
    'buying signals: Raised a seed round; Posted an SDR job',
  ].join('\n');

  it('sets the product overview fields the notes name and keeps the rest as generated', () => {
    const before = structuredClone(overview);
    const result = applyUserContext(AssetKind.PRODUCT_OVERVIEW, overview, notes);
    expect(result.applied).toEqual(['pricing', 'keyFeatures', 'description']);
    expect(result.rejected).toEqual([]);
    expect(result.asset).toEqual({ ...overview, pricing: 'From $2,000 per month', keyFeatures: ['Lead lists', 'Copywriting', 'Deliverability'], description: 'Done-for-you outbound for B2B founders.' });
    expect(overview).toEqual(before);
  });

  it('gives a field without an asset to the first asset that has it and accepts the value', () => {
    // "description" is the product overview's: the target company and persona keep theirs.
    const companyResult = applyUserContext(AssetKind.TARGET_COMPANY, company, notes);
    expect(companyResult.applied).toEqual(['firmographics.industries']);
    expect(companyResult.asset.description).toBe(company.description);
    expect(companyResult.asset.firmographics.industries).toEqual(['SaaS', 'Fintech']);
    // The company's buying signals are objects; a list of texts is the persona's.
    expect(companyResult.asset.buyingSignals).toEqual(company.buyingSignals);
    expect(companyResult.rejected).toEqual([]);
    const personaResult = applyUserContext(AssetKind.TARGET_PERSONA, persona, notes);
    expect(personaResult.applied).toEqual(['seniority', 'buyingSignals']);
    expect(personaResult.asset.seniority).toEqual(['OWNER', 'C_LEVEL']);
    expect(personaResult.asset.buyingSignals).toEqual(['Raised a seed round', 'Posted an SDR job']);
    expect(personaResult.asset.description).toBe(persona.description);
  });

  it('reads numbers, list positions, null and JSON for the field types that need them', () => {
    const result = applyUserContext(
      AssetKind.EMAIL_SEQUENCE,
      sequence,
      `emailSequence.emails[1].delayDays: 2\nemailSequence.emails[0].subject: Outbound without SDRs\nemailSequence.emails[0].subjectAlternatives: ["Quick question", "Pipeline idea"]`,
    );
    expect(result.applied).toEqual(['emails[1].delayDays', 'emails[0].subject', 'emails[0].subjectAlternatives']);
    expect(result.asset.emails[1]!.delayDays).toBe(2);
    expect(result.asset.emails[0]).toMatchObject({ subject: 'Outbound without SDRs', subjectAlternatives: ['Quick question', 'Pipeline idea'] });
    const cleared = applyUserContext(AssetKind.TARGET_COMPANY, company, 'targetCompany.firmographics.fundingStage: null');
    expect(cleared.asset.firmographics.fundingStage).toBeNull();
  });

  it('reports fields meant for this asset that it cannot take, and leaves them as generated', () => {
    const result = applyUserContext(
      AssetKind.EMAIL_SEQUENCE,
      sequence,
      'emailSequence.emails[0].delayDays: soon\nemailSequence.emails[9].subject: Hello\nemailSequence.tone: friendly\nNote: keep it short',
    );
    expect(result.applied).toEqual([]);
    expect(result.asset).toEqual(sequence);
    expect(result.rejected).toEqual([
      { fieldPath: 'emails[0].delayDays', line: 1, message: 'emails[0].delayDays: Invalid input: expected number, received NaN' },
      { fieldPath: 'emails[9].subject', line: 2, message: `emails[9] is past the end of a list of ${sequence.emails.length}.` },
      { fieldPath: 'tone', line: 3, message: 'tone is not a field of EMAIL_SEQUENCE' },
    ]);
  });

  it('applies JSON notes the same way', () => {
    const result = applyUserContext(AssetKind.PRODUCT_OVERVIEW, overview, '{"productOverview": {"pricing": "Custom quotes", "keyFeatures": ["Lead lists"]}}');
    expect(result.asset).toMatchObject({ pricing: 'Custom quotes', keyFeatures: ['Lead lists'] });
  });

  it('changes nothing without notes', () => {
    expect(applyUserContext(AssetKind.PRODUCT_OVERVIEW, overview, undefined)).toEqual({ asset: overview, applied: [], rejected: [] });
  });
});
