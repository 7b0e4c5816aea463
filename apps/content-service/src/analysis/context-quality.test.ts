import { describe, expect, it } from '@jest/globals';
import type { SiteFacts } from '../extraction/site-facts.js';
import { assessContextQuality, qualityLevelOf } from './context-quality.js';

const evidence = (count: number) => Array.from({ length: count }, (_, index) => ({ pageUrl: 'https://example.com', text: `statement ${index}` }));
const facts = (counts: Partial<Record<keyof SiteFacts, number>>): SiteFacts => ({
  whatItIs: evidence(counts.whatItIs ?? 0),
  forWhom: evidence(counts.forWhom ?? 0),
  features: evidence(counts.features ?? 0),
  proof: evidence(counts.proof ?? 0),
  pricing: evidence(counts.pricing ?? 0),
});

describe('context quality', () => {
  it('maps scores to the levels of API.md, boundaries included', () => {
    expect(qualityLevelOf(0.81)).toBe('SUFFICIENT');
    expect(qualityLevelOf(0.8)).toBe('PARTIAL');
    expect(qualityLevelOf(0.6)).toBe('PARTIAL');
    expect(qualityLevelOf(0.59)).toBe('INSUFFICIENT');
    expect(qualityLevelOf(0.4)).toBe('INSUFFICIENT');
    expect(qualityLevelOf(0.39)).toBe('MISSING');
  });

  it('is SUFFICIENT when every fact is covered and there is enough text', () => {
    const quality = assessContextQuality(facts({ whatItIs: 2, forWhom: 2, features: 5, proof: 3, pricing: 1 }), 2_000);
    expect(quality).toEqual({ level: 'SUFFICIENT', score: 1, gaps: [] });
  });

  it('is PARTIAL without pricing and proof, and names both', () => {
    const quality = assessContextQuality(facts({ whatItIs: 2, forWhom: 2, features: 4 }), 1_500);
    expect(quality.score).toBeCloseTo(0.75, 3);
    expect(quality.level).toBe('PARTIAL');
    expect(quality.gaps).toEqual([expect.stringMatching(/^proof:/), expect.stringMatching(/^pricing:/)]);
  });

  it('is INSUFFICIENT with only what it is and a few features, and says what is thin', () => {
    const quality = assessContextQuality(facts({ whatItIs: 2, forWhom: 1, features: 2 }), 800);
    expect(quality.level).toBe('INSUFFICIENT');
    expect(quality.gaps).toEqual(expect.arrayContaining([expect.stringMatching(/^for whom: thin/), expect.stringMatching(/^features: thin/)]));
  });

  it('is MISSING for a page with almost nothing on it', () => {
    const quality = assessContextQuality(facts({ whatItIs: 1 }), 40);
    expect(quality.level).toBe('MISSING');
    expect(quality.gaps).toEqual(expect.arrayContaining([expect.stringMatching(/^volume: only 40 words/)]));
  });
});
