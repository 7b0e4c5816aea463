import { describe, expect, it } from '@jest/globals';
import { AssetKind } from './asset-kind.js';
import { positioningSchema, productOverviewSchema, targetCompanySchema } from './asset-schemas.js';
import { assetTaskOf } from './asset-tasks.js';
import { AssetFieldError, formatFieldPath, parseFieldPath, setFieldAtPath } from './field-path.js';
import { contextOf } from './website-captures.fixture.js';

const context = contextOf('intryc.com');
const overview = assetTaskOf(AssetKind.PRODUCT_OVERVIEW).offline(context);
const company = assetTaskOf(AssetKind.TARGET_COMPANY).offline(context);
const positioning = assetTaskOf(AssetKind.POSITIONING).offline(context);

/** The AssetFieldError a call throws (fails the test when it throws nothing or something else). */
function fieldErrorOf(call: () => unknown): AssetFieldError {
  try {
    call();
  } catch (error) {
    if (error instanceof AssetFieldError) return error;
    throw error;
  }
  throw new Error('expected an AssetFieldError');
}

describe('parseFieldPath', () => {
  it('reads names and list positions, and writes them back the same way', () => {
    expect(parseFieldPath('keyFeatures[2]')).toEqual(['keyFeatures', 2]);
    expect(parseFieldPath('firmographics.industries')).toEqual(['firmographics', 'industries']);
    expect(parseFieldPath(' valuePropositions[0].evidence ')).toEqual(['valuePropositions', 0, 'evidence']);
    expect(formatFieldPath(['emails', 1, 'subjectAlternatives', 0])).toBe('emails[1].subjectAlternatives[0]');
  });

  it.each(['', 'key features', 'a..b', 'keyFeatures[-1]', 'keyFeatures[x]', '[0]', 'keyFeatures.'])('refuses %j as INVALID_FIELD_PATH', (path) => {
    expect(fieldErrorOf(() => parseFieldPath(path)).code).toBe('INVALID_FIELD_PATH');
  });
});

describe('setFieldAtPath', () => {
  it('returns a corrected copy validated by the schema and leaves the asset alone', () => {
    const before = structuredClone(overview);
    const corrected = setFieldAtPath(overview, productOverviewSchema, 'keyFeatures[1]', 'AI reviews of every ticket');
    expect(corrected.keyFeatures[1]).toBe('AI reviews of every ticket');
    expect(corrected.keyFeatures.filter((_, index) => index !== 1)).toEqual(overview.keyFeatures.filter((_, index) => index !== 1));
    expect(overview).toEqual(before);
    expect(corrected).not.toBe(overview);
  });

  it('sets nested fields, whole lists and items of lists of objects', () => {
    const industries = setFieldAtPath(company, targetCompanySchema, 'firmographics.industries', ['Fintech', 'SaaS']);
    expect(industries.firmographics.industries).toEqual(['Fintech', 'SaaS']);
    expect(industries.firmographics.keywords).toEqual(company.firmographics.keywords);
    const range = setFieldAtPath(company, targetCompanySchema, 'firmographics.employeeRange', '50-500');
    expect(range.firmographics.employeeRange).toBe('50-500');
    expect(setFieldAtPath(range, targetCompanySchema, 'firmographics.employeeRange', null).firmographics.employeeRange).toBeNull();
    const evidence = setFieldAtPath(positioning, positioningSchema, 'valuePropositions[0].evidence', 'Deel increased audit output by 40%.');
    expect(evidence.valuePropositions[0]!.evidence).toBe('Deel increased audit output by 40%.');
    const priority = setFieldAtPath(company, targetCompanySchema, 'buyingSignals[0].priority', 'LOW');
    expect(priority.buyingSignals[0]!.priority).toBe('LOW');
  });

  it('appends when the position is the length of the list', () => {
    const appended = setFieldAtPath(overview, productOverviewSchema, `keyFeatures[${overview.keyFeatures.length}]`, 'Slack alerts');
    expect(appended.keyFeatures).toEqual([...overview.keyFeatures, 'Slack alerts']);
  });

  it.each([
    ['keyFeature[0]', 'keyFeature[0] is not a field of this asset.'],
    ['keyFeatures[0].name', 'keyFeatures[0].name is not a field of this asset.'],
    ['firmographics.size', 'firmographics.size is not a field of this asset.'],
    ['keyFeatures[40]', 'keyFeatures[40] is past the end of a list of 6.'],
    ['valuePropositions[9].evidence', 'valuePropositions[9] is past the end of a list of 4.'],
  ])('refuses the path %s as INVALID_FIELD_PATH', (path, message) => {
    const schema = path.startsWith('firmographics') ? targetCompanySchema : path.startsWith('value') ? positioningSchema : productOverviewSchema;
    const asset = path.startsWith('firmographics') ? company : path.startsWith('value') ? positioning : overview;
    const error = fieldErrorOf(() => setFieldAtPath(asset as never, schema as never, path, 'x'));
    expect(error).toMatchObject({ name: 'AssetFieldError', code: 'INVALID_FIELD_PATH', message, issues: [] });
    expect(error).toBeInstanceOf(Error);
  });

  it.each([
    ['keyFeatures[0]', 42, 'keyFeatures[0]: Invalid input: expected string, received number'],
    ['keyFeatures[0]', '   ', 'keyFeatures[0]: must be 1 to 300 characters'],
    ['keyFeatures', ['Same', 'Same'], 'keyFeatures: must not repeat an entry'],
    ['pricing', 'p'.repeat(501), 'pricing: must be 1 to 500 characters'],
    ['sources', [{ url: 'https://intryc.com' }], 'sources[0].quote: Invalid input: expected string, received undefined'],
  ])('refuses %s = %j as INVALID_FIELD_VALUE with zod\'s message', (path, value, message) => {
    const error = fieldErrorOf(() => setFieldAtPath(overview, productOverviewSchema, path, value));
    expect(error).toMatchObject({ code: 'INVALID_FIELD_VALUE', fieldPath: path, message });
    expect(error.issues[0]).toBe(message);
  });

  it('refuses a value outside an enum and a null where a value is required', () => {
    expect(fieldErrorOf(() => setFieldAtPath(company, targetCompanySchema, 'buyingSignals[0].priority', 'URGENT')).message).toBe(
      'buyingSignals[0].priority: Invalid option: expected one of "HIGH"|"MEDIUM"|"LOW"',
    );
    expect(fieldErrorOf(() => setFieldAtPath(company, targetCompanySchema, 'name', null)).code).toBe('INVALID_FIELD_VALUE');
  });
});
