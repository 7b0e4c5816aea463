import { describe, expect, it } from '@jest/globals';
import { containsPattern, domainOf, normalizeWebsiteUrl } from './website-url.js';

describe('normalizeWebsiteUrl', () => {
  it.each([
    ['https://Blossomer.IO/', 'https://blossomer.io'],
    ['blossomer.io', 'https://blossomer.io'],
    ['http://example.com:80/pricing/#plans', 'http://example.com/pricing'],
    ['https://example.com:8443/a?b=1', 'https://example.com:8443/a?b=1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeWebsiteUrl(input)).toBe(expected);
  });

  it.each(['ftp://example.com', 'not a url', 'https://user:pw@example.com', 'javascript:alert(1)', 'https://intranet'])('refuses %s with BAD_USER_INPUT', (input) => {
    expect(() => normalizeWebsiteUrl(input)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
  });

  it('takes the domain without www', () => {
    expect(domainOf('https://www.Panfactum.com/about')).toBe('panfactum.com');
  });

  it('escapes LIKE wildcards', () => {
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });
});
