import { describe, expect, it } from '@jest/globals';
import type { WebsitePassage } from './asset-context.js';
import { Citations, companyNameFromUrl, fragmentsOf, normalizeForMatching, rankFragments, shorten, stemOf } from './passage-extraction.js';
import { contextOf } from './website-captures.fixture.js';

const passage = (text: string, heading = 'Section'): WebsitePassage => ({ pageUrl: 'https://acme.example', heading, text, score: 1 });
const textsOf = (passages: WebsitePassage[], companyName?: string) => fragmentsOf(passages, { companyName }).map((fragment) => fragment.text);

describe('fragmentsOf', () => {
  it('keeps the words of markdown and drops its markup, each fragment a substring of the passage', () => {
    const text = [
      '![logo](https://cdn.example/logo.png)',
      '[**Sampling**\\',
      '\\',
      'Stop wasting hours on sampling. Set up samples in minutes.](https://acme.example/#tab)',
      '- Untracked resource provisioning',
      '> "Acme saved us a week."',
      'Read more at https://acme.example/docs today',
    ].join('\n');
    const fragments = fragmentsOf([passage(text)], { companyName: 'Acme' });
    expect(fragments.map((fragment) => [fragment.shape, fragment.text])).toEqual([
      ['heading', 'Section'],
      ['line', 'Sampling'],
      ['sentence', 'Stop wasting hours on sampling.'],
      ['sentence', 'Set up samples in minutes.'],
      ['line', 'Untracked resource provisioning'],
      ['sentence', 'Acme saved us a week.'],
      ['line', 'Read more at'],
      ['line', 'today'],
    ]);
    for (const fragment of fragments.slice(1)) expect(text).toContain(fragment.text);
    expect(fragments.find((fragment) => fragment.text === 'Acme saved us a week.')?.customerVoice).toBe(true);
    expect(fragments.find((fragment) => fragment.text === 'Set up samples in minutes.')?.customerVoice).toBe(false);
  });

  it('does not end a sentence at "e.g." or inside a number', () => {
    expect(textsOf([passage('Teams use it for reports, e.g. weekly ones. Plans cost $1.5M a year. Done!')], 'Acme')).toEqual([
      'Section',
      'Teams use it for reports, e.g. weekly ones.',
      'Plans cost $1.5M a year.',
      'Done!',
    ]);
  });

  it('tells a customer speaking from the company: first person, the company named with "we", and the rest of that paragraph', () => {
    const fragments = fragmentsOf(
      [passage("Since adopting Acme, we've doubled output. It was easy.\n\nTalk to an Acme engineer about our approach.\n\nWe help teams ship.")],
      { companyName: 'Acme' },
    );
    const voice = Object.fromEntries(fragments.map((fragment) => [fragment.text, fragment.customerVoice]));
    expect(voice).toMatchObject({
      "Since adopting Acme, we've doubled output.": true,
      'It was easy.': true,
      'Talk to an Acme engineer about our approach.': false,
      'We help teams ship.': false,
    });
  });

  it('keeps a repeated testimonial once (carousels repeat them), the first copy', () => {
    const { passages } = contextOf('panfactum.com');
    const texts = textsOf(passages, 'Panfactum');
    expect(texts.filter((text) => text === "With Panfactum, I don't think we'll ever need like a platform team.")).toHaveLength(1);
    expect(new Set(texts).size).toBe(texts.length);
  });
});

describe('helpers', () => {
  it('ranks by score, ties in passage order, and skips a fragment contained in one already picked', () => {
    const fragments = fragmentsOf([passage('Fast setup. Fast setup and migration. Slow reports.', 'Fast setup')]);
    const picked = rankFragments(fragments, (fragment) => (fragment.text.includes('Fast') ? 2 : 0), { limit: 3 });
    expect(picked.map((fragment) => fragment.text)).toEqual(['Fast setup']);
    const byLength = rankFragments(fragments, (fragment) => fragment.text.length, { limit: 2, minimumScore: 12 });
    expect(byLength.map((fragment) => fragment.text)).toEqual(['Fast setup and migration.', 'Slow reports.']);
  });

  it('cites each quote once, carries a composed text by the sources it is made of', () => {
    const citations = new Citations();
    const fragments = fragmentsOf([passage('Ships fast. Costs less.')]);
    citations.cite(fragments[1]!);
    citations.cite(fragments[1]!);
    citations.carry('Heading here. Costs less.', [], [
      { url: 'https://acme.example/a', quote: 'Heading here' },
      { url: 'https://acme.example/b', quote: 'Unrelated' },
    ]);
    expect(citations.list()).toEqual([
      { url: 'https://acme.example', quote: 'Ships fast.' },
      { url: 'https://acme.example/a', quote: 'Heading here' },
    ]);
  });

  it('normalises quotes, dashes, case and spaces for matching', () => {
    expect(normalizeForMatching('  Intryc’s  “AI” — fast…')).toBe(`intryc's "ai" - fast...`);
  });

  it('names a company from its address, shortens at a word and stems crudely', () => {
    expect(companyNameFromUrl('https://www.intryc.com/product')).toBe('Intryc');
    expect(companyNameFromUrl('blossomer.io')).toBe('Blossomer');
    expect(shorten('one two three four', 12)).toBe('one two…');
    expect(shorten('short', 12)).toBe('short');
    expect(stemOf('savings')).toBe(stemOf('save'));
    expect(stemOf('costs')).toBe('cost');
  });
});
