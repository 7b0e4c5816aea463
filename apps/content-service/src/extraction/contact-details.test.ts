import { describe, expect, it } from '@jest/globals';
import { decodeCloudflareEmail, socialProfileOf } from './contact-details.js';
import { extractPage } from './page-extraction.js';

const contactsOf = (body: string) => extractPage(`<html><body>${body}</body></html>`, 'https://acme.test/').contacts;

/** Cloudflare's email protection, as its edge writes it. */
const encodeForCloudflare = (email: string, key = 0x5a) => key.toString(16).padStart(2, '0') + [...email].map((character) => (character.charCodeAt(0) ^ key).toString(16).padStart(2, '0')).join('');

describe('emails', () => {
  it('reads mailto links (recipients, escapes and query) and addresses in the text', () => {
    const contacts = contactsOf(`
      <a href="mailto:Sales@Acme.io?subject=Hello%20there">Write to us</a>
      <a href="mailto:support%40acme.io,billing@acme.io">two</a>
      <p>Press: press@acme.io.</p>`);
    expect(contacts.emails).toEqual(['sales@acme.io', 'support@acme.io', 'billing@acme.io', 'press@acme.io']);
  });

  it('de-obfuscates "name [at] domain [dot] com" and Cloudflare-protected addresses', () => {
    const contacts = contactsOf(`
      <p>Write to jobs [at] acme [dot] io or hello (at) acme.io</p>
      <a href="/cdn-cgi/l/email-protection#${encodeForCloudflare('founders@acme.io')}">[email protected]</a>
      <span class="__cf_email__" data-cfemail="${encodeForCloudflare('team@acme.io', 0x21)}">[email protected]</span>`);
    expect(contacts.emails).toEqual(['founders@acme.io', 'team@acme.io', 'jobs@acme.io', 'hello@acme.io']);
    expect(decodeCloudflareEmail('zz')).toBeNull();
  });

  it('ignores retina image names, placeholders, documentation domains and error-tracker keys', () => {
    const contacts = contactsOf(`
      <p>logo@2x.png hero@3x.webp icon@2x.svg</p>
      <p>Enter you@example.com or name@yourcompany.com</p>
      <p>0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io</p>
      <input placeholder="jane@acme.io">`);
    expect(contacts.emails).toEqual([]);
  });
});

describe('phones', () => {
  it('reads tel: links as their label shows them, and formatted numbers in the text, each number once', () => {
    const contacts = contactsOf(`
      <a href="tel:+14155550142">+1 (415) 555-0142</a>
      <p>Call (415) 555-0142 or our London office on +44 20 7946 0958.</p>
      <a href="tel:+4930123456">Call Berlin</a>`);
    expect(contacts.phones).toEqual(['+1 (415) 555-0142', '+4930123456', '+44 20 7946 0958']);
  });

  it('does not take dates, years, prices, percentages or plain counts for phone numbers', () => {
    const contacts = contactsOf(`
      <p>Founded 2019-2021, updated 2024-05-17 and 17.05.2024.</p>
      <p>From $1,200 to $4,100 per month; 40% faster; 100 000 000 records; order 12345678.</p>
      <p>Version 1.2.3.4 shipped on 12 05 2024.</p>`);
    expect(contacts.phones).toEqual([]);
  });
});

describe('social links', () => {
  it('keeps company profiles and drops share buttons, posts and people', () => {
    const contacts = contactsOf(`
      <a href="https://www.linkedin.com/company/acme/">LinkedIn</a>
      <a href="https://www.linkedin.com/in/jane-doe">Jane</a>
      <a href="https://www.linkedin.com/shareArticle?url=x">Share</a>
      <a href="https://twitter.com/acme?lang=en">Twitter</a>
      <a href="https://x.com/intent/tweet?text=hi">Tweet</a>
      <a href="https://x.com/Acme">X again</a>
      <a href="https://github.com/acme/engine#readme">GitHub</a>
      <a href="https://www.youtube.com/@acme">YouTube</a>
      <a href="https://www.youtube.com/watch?v=123">A video</a>
      <a href="https://www.facebook.com/sharer/sharer.php?u=x">Share</a>
      <a href="https://www.facebook.com/acmehq">Facebook</a>
      <a href="https://www.instagram.com/p/abc123/">A post</a>
      <a href="https://instagram.com/acme.hq">Instagram</a>`);
    expect(contacts.socialLinks).toEqual([
      { network: 'linkedin', url: 'https://www.linkedin.com/company/acme' },
      { network: 'x', url: 'https://twitter.com/acme' },
      { network: 'github', url: 'https://github.com/acme/engine' },
      { network: 'youtube', url: 'https://www.youtube.com/@acme' },
      { network: 'facebook', url: 'https://www.facebook.com/acmehq' },
      { network: 'instagram', url: 'https://instagram.com/acme.hq' },
    ]);
  });

  it('recognises each network by host, not by a word in the URL', () => {
    expect(socialProfileOf('https://example.com/linkedin.com/company/acme')).toBeNull();
    expect(socialProfileOf('https://notgithub.com/acme')).toBeNull();
    expect(socialProfileOf('javascript:alert(1)')).toBeNull();
    expect(socialProfileOf('https://uk.linkedin.com/company/acme-ltd/about')).toEqual({ network: 'linkedin', url: 'https://uk.linkedin.com/company/acme-ltd' });
  });
});
