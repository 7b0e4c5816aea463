import { describe, expect, it } from '@jest/globals';
import { identifyRecord } from './record-identity.js';

describe('identifying a record’s company', () => {
  it('takes the domain from the website, normalised, before the email', () => {
    expect(identifyRecord({ email: 'jack@other.io', website: 'WWW.Panfactum.com/' })).toEqual({
      found: true,
      domain: 'panfactum.com',
      normalizedWebsite: 'https://www.panfactum.com',
    });
  });

  it('falls back to a work email’s domain', () => {
    expect(identifyRecord({ email: ' Jack@Panfactum.COM ', website: null })).toEqual({ found: true, domain: 'panfactum.com', normalizedWebsite: null });
  });

  it('says why when neither gives a company', () => {
    expect(identifyRecord({ email: 'someone@gmail.com', website: null })).toEqual({ found: false, failureReason: "gmail.com is a personal mailbox; give the company's website." });
    expect(identifyRecord({ email: null, website: 'not a url' })).toMatchObject({ found: false, failureReason: expect.stringContaining('not a website URL') });
    expect(identifyRecord({ email: 'not-an-email', website: null })).toEqual({ found: false, failureReason: 'Neither a website nor a work email: give one of them.' });
  });
});
