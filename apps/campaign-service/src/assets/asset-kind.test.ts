import { describe, expect, it } from '@jest/globals';
import { AssetKind, assetKinds, buildOrderOf, dependentsOf, prerequisitesOf, retrievalQueriesOf, transitivePrerequisitesOf } from './asset-kind.js';

const { PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA, POSITIONING, EMAIL_SEQUENCE } = AssetKind;

describe('the asset dependency graph', () => {
  it('has the five kinds of the API, their values spelled like their names', () => {
    expect(assetKinds).toEqual(['PRODUCT_OVERVIEW', 'TARGET_COMPANY', 'TARGET_PERSONA', 'POSITIONING', 'EMAIL_SEQUENCE']);
    expect(Object.values(AssetKind)).toEqual(assetKinds);
  });

  it('lists direct prerequisites only', () => {
    expect(prerequisitesOf(PRODUCT_OVERVIEW)).toEqual([]);
    expect(prerequisitesOf(TARGET_COMPANY)).toEqual([PRODUCT_OVERVIEW]);
    expect(prerequisitesOf(TARGET_PERSONA)).toEqual([PRODUCT_OVERVIEW, TARGET_COMPANY]);
    expect(prerequisitesOf(POSITIONING)).toEqual([PRODUCT_OVERVIEW, TARGET_PERSONA]);
    expect(prerequisitesOf(EMAIL_SEQUENCE)).toEqual([PRODUCT_OVERVIEW, TARGET_PERSONA, POSITIONING]);
  });

  it('closes the chain transitively, in build order', () => {
    expect(transitivePrerequisitesOf(PRODUCT_OVERVIEW)).toEqual([]);
    // Positioning reads the persona, which reads the target company: that one is needed too.
    expect(transitivePrerequisitesOf(POSITIONING)).toEqual([PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA]);
    expect(transitivePrerequisitesOf(EMAIL_SEQUENCE)).toEqual([PRODUCT_OVERVIEW, TARGET_COMPANY, TARGET_PERSONA, POSITIONING]);
  });

  it('orders what to build so that every kind comes after all it depends on', () => {
    expect(buildOrderOf()).toEqual([...assetKinds]);
    expect(buildOrderOf([TARGET_COMPANY])).toEqual([PRODUCT_OVERVIEW, TARGET_COMPANY]);
    expect(buildOrderOf([EMAIL_SEQUENCE, PRODUCT_OVERVIEW])).toEqual([...assetKinds]);
    expect(buildOrderOf([])).toEqual([]);
    const order = buildOrderOf();
    for (const kind of order) {
      for (const prerequisite of prerequisitesOf(kind)) expect(order.indexOf(prerequisite)).toBeLessThan(order.indexOf(kind));
    }
  });

  it('names what goes stale when a kind changes', () => {
    expect(dependentsOf(PRODUCT_OVERVIEW)).toEqual([TARGET_COMPANY, TARGET_PERSONA, POSITIONING, EMAIL_SEQUENCE]);
    expect(dependentsOf(TARGET_COMPANY)).toEqual([TARGET_PERSONA, POSITIONING, EMAIL_SEQUENCE]);
    expect(dependentsOf(POSITIONING)).toEqual([EMAIL_SEQUENCE]);
    expect(dependentsOf(EMAIL_SEQUENCE)).toEqual([]);
  });
});

describe('retrieval queries', () => {
  it('ask for what each asset needs in the words websites use', () => {
    for (const kind of assetKinds) expect(retrievalQueriesOf(kind).length).toBeGreaterThanOrEqual(3);
    const overview = retrievalQueriesOf(PRODUCT_OVERVIEW).join(' | ');
    expect(overview).toMatch(/pricing/);
    expect(overview).toMatch(/customers/);
    expect(overview).toMatch(/features/);
    expect(retrievalQueriesOf(TARGET_PERSONA).join(' ')).toMatch(/job titles/);
    expect(retrievalQueriesOf(POSITIONING).join(' ')).toMatch(/compared to/);
  });
});
