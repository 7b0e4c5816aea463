import type { PageSurvey } from './page-survey.js';
import { normalizeText } from './text-normalization.js';

export type SocialNetwork = 'linkedin' | 'x' | 'github' | 'youtube' | 'facebook' | 'instagram';

export interface ContactDetails {
  emails: string[];
  phones: string[];
  socialLinks: Array<{ network: SocialNetwork; url: string }>;
}

// ---- email addresses ---------------------------------------------------------------------------

const emailPattern = /[a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9])?@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}/gi;
// "name [at] domain [dot] com", "name (at) domain.com", "name{at}domain{dot}com".
const obfuscatedAt = /\s*[[({<]\s*(?:at|@)\s*[\])}>]\s*/gi;
const obfuscatedDot = /\s*[[({<]\s*(?:dot|\.)\s*[\])}>]\s*/gi;
// A "top-level domain" that is a file extension: `logo@2x.png`, `icon@3x.webp`, `bundle@1.2.js`.
const fileExtensions = /^(png|jpe?g|gif|svg|webp|avif|ico|bmp|tiff?|css|js|mjs|cjs|json|xml|pdf|mp4|webm|mov|woff2?|ttf|otf|eot|html?|php|aspx?|map|zip|txt)$/;
// Documentation domains, form placeholders and services whose addresses are machinery, not contacts.
const placeholderDomains = /(^|\.)(example\.(com|org|net)|test\.com|domain\.com|email\.com|yourdomain\.com|yourcompany\.com|company\.com|mysite\.com|sentry\.io|sentry-next\.wixpress\.com|wixpress\.com|mhtml\.blink)$/;
const placeholderNames = new Set(['name', 'your.name', 'yourname', 'you', 'your', 'email', 'youremail', 'your.email', 'john.doe', 'jane.doe', 'johndoe', 'janedoe', 'firstname.lastname', 'first.last', 'user', 'username']);

function acceptEmail(candidate: string): string | null {
  const email = candidate.toLowerCase().replace(/^mailto:/, '');
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!/^[a-z0-9._%+-]+$/.test(local) || local.includes('..') || !/^[a-z0-9.-]+\.[a-z]{2,24}$/.test(domain)) return null;
  if (fileExtensions.test(domain.slice(domain.lastIndexOf('.') + 1))) return null;
  // `2x.png`-like domains and long hexadecimal local parts (error-tracker keys) are not mailboxes.
  if (/^\d+x\./.test(domain) || /^[0-9a-f]{16,}$/.test(local)) return null;
  if (placeholderDomains.test(domain) || placeholderNames.has(local)) return null;
  return email;
}

/** Cloudflare's email protection: hex bytes, the first one the XOR key of the rest. */
export function decodeCloudflareEmail(encoded: string): string | null {
  if (!/^(?:[0-9a-f]{2}){2,}$/i.test(encoded)) return null;
  const key = Number.parseInt(encoded.slice(0, 2), 16);
  let decoded = '';
  for (let index = 2; index < encoded.length; index += 2) decoded += String.fromCharCode(Number.parseInt(encoded.slice(index, index + 2), 16) ^ key);
  return decoded.includes('@') ? decoded : null;
}

function emailsOf(survey: PageSurvey): string[] {
  const found = new Set<string>();
  const add = (candidate: string | null) => {
    const email = candidate ? acceptEmail(candidate) : null;
    if (email) found.add(email);
  };
  for (const { href } of survey.anchors) {
    if (/^mailto:/i.test(href)) {
      let recipients = href.slice(7).split('?')[0] ?? '';
      try {
        recipients = decodeURIComponent(recipients);
      } catch {
        // A malformed escape leaves the address as written.
      }
      for (const recipient of recipients.split(/[,;]/)) add(recipient.trim());
    }
    const protectedEmail = /\/cdn-cgi\/l\/email-protection#([0-9a-f]+)/i.exec(href);
    if (protectedEmail) add(decodeCloudflareEmail(protectedEmail[1]!));
  }
  for (const encoded of survey.encodedEmails) add(decodeCloudflareEmail(encoded));
  const text = survey.text.replace(obfuscatedAt, '@').replace(obfuscatedDot, '.');
  for (const match of text.matchAll(emailPattern)) add(match[0]);
  return [...found];
}

// ---- phone numbers -----------------------------------------------------------------------------

// Written numbers: an optional +country code, an optional (area code), then at least two groups
// of digits joined by single spaces, dots or hyphens. Bare digit runs are not taken from text.
const phonePattern = /(?<![\w+$€£.,/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,5}){1,4}(?![\w%/]|[.,]\d)/g;
const datePattern = /^\d{4}[ .-]\d{1,2}[ .-]\d{1,2}$|^\d{1,2}[ .-]\d{1,2}[ .-]\d{4}$|^\d{4}[ .-]\d{4}$/;
const digitsOf = (phone: string) => phone.replace(/\D/g, '');

/**
 * Phone numbers from `tel:` links (as their label shows them when it is the same number), and
 * numbers written in the text that look like phone numbers: 10 to 15 digits, or 8 and more
 * after a `+`, never a date or a year range.
 */
function phonesOf(survey: PageSurvey): string[] {
  const phones: string[] = [];
  const seen: string[] = [];
  const add = (phone: string) => {
    const digits = digitsOf(phone);
    // The same number with or without its country code is one number.
    if (seen.some((other) => other.endsWith(digits) || digits.endsWith(other))) return;
    seen.push(digits);
    phones.push(phone);
  };
  for (const { href, text } of survey.anchors) {
    if (!/^tel:/i.test(href)) continue;
    let number = href.slice(4).split(/[;?]/)[0] ?? '';
    try {
      number = decodeURIComponent(number);
    } catch {
      // Keep the number as written.
    }
    const digits = digitsOf(number);
    if (digits.length < 7 || digits.length > 15) continue;
    // The label shows the number as the site formats it, when it is the same number.
    const label = normalizeText(text);
    const labelDigits = digitsOf(label);
    add(labelDigits.length >= 7 && digits.endsWith(labelDigits) ? label : normalizeText(number));
  }
  for (const line of survey.text.split('\n')) {
    if (!/\d{2}/.test(line)) continue;
    for (const match of line.matchAll(phonePattern)) {
      const phone = match[0].trim();
      const digits = digitsOf(phone);
      const international = phone.startsWith('+');
      if (digits.length > 15 || digits.length < (international ? 8 : 10) || datePattern.test(phone)) continue;
      add(phone);
    }
  }
  return phones;
}

// ---- social profiles ---------------------------------------------------------------------------

interface NetworkRule {
  network: SocialNetwork;
  hosts: RegExp;
  /** The profile part of the path (segments kept), or null when the link is not a profile (a share button, a post). */
  profile: (segments: string[]) => string[] | null;
}

const reservedTwitterPaths = new Set(['intent', 'share', 'home', 'search', 'hashtag', 'i', 'login', 'signup', 'privacy', 'tos', 'explore', 'settings']);
const socialRules: NetworkRule[] = [
  // A company page, not a person's profile (testimonials link to people) nor a share button.
  { network: 'linkedin', hosts: /(^|\.)linkedin\.com$/, profile: (segments) => (/^(company|school|showcase)$/.test(segments[0] ?? '') && segments[1] ? segments.slice(0, 2) : null) },
  { network: 'x', hosts: /^(www\.|mobile\.)?(twitter|x)\.com$/, profile: (segments) => (segments.length >= 1 && !reservedTwitterPaths.has(segments[0]!.toLowerCase()) ? segments.slice(0, 1) : null) },
  {
    network: 'github',
    hosts: /^(www\.)?github\.com$/,
    profile: (segments) => (segments[0] && !/^(features|pricing|login|about|sponsors|marketplace|topics|collections|enterprise|security|orgs|settings)$/.test(segments[0]) ? segments.slice(0, 2) : null),
  },
  { network: 'youtube', hosts: /^(www\.|m\.)?youtube\.com$/, profile: (segments) => (segments[0]?.startsWith('@') ? segments.slice(0, 1) : /^(c|channel|user)$/.test(segments[0] ?? '') && segments[1] ? segments.slice(0, 2) : null) },
  {
    network: 'facebook',
    hosts: /^(www\.|m\.|web\.)?(facebook|fb)\.com$/,
    profile: (segments) => (segments[0] && !/^(sharer(\.php)?|share|dialog|plugins|tr|login|groups|events|watch)$/.test(segments[0]) ? segments.slice(0, segments[0] === 'pages' ? 3 : 1) : null),
  },
  { network: 'instagram', hosts: /^(www\.)?instagram\.com$/, profile: (segments) => (segments[0] && !/^(p|reel|reels|explore|stories|accounts)$/.test(segments[0]) ? segments.slice(0, 1) : null) },
];

/** The profile a link points to, as `https://host/profile-path`, or null for anything else. */
export function socialProfileOf(href: string): { network: SocialNetwork; url: string } | null {
  // `URL.parse`, not `new URL`: most links of a page are relative and so not URLs on their own, and
  // an exception thrown for each of them was a visible share of reading a page.
  const url = URL.parse(href);
  if (!url) return null;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const host = url.hostname.toLowerCase();
  const rule = socialRules.find((candidate) => candidate.hosts.test(host));
  if (!rule) return null;
  const segments = url.pathname.split('/').filter(Boolean);
  const profile = rule.profile(segments);
  return profile ? { network: rule.network, url: `https://${host}/${profile.join('/')}` } : null;
}

function socialLinksOf(survey: PageSurvey, jsonLd: readonly unknown[]): ContactDetails['socialLinks'] {
  const candidates = survey.anchors.map((anchor) => anchor.href);
  // schema.org `sameAs` lists the organisation's own profiles.
  for (const item of jsonLd) {
    const sameAs = (item as { sameAs?: unknown } | null)?.sameAs;
    for (const value of Array.isArray(sameAs) ? sameAs : [sameAs]) if (typeof value === 'string') candidates.push(value);
  }
  const links: ContactDetails['socialLinks'] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const profile = socialProfileOf(candidate);
    if (!profile) continue;
    // One profile whatever the host spelling: twitter.com and x.com, www. and uk.linkedin.com.
    const key = `${profile.network}:${new URL(profile.url).pathname.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    links.push(profile);
  }
  return links;
}

/** Email addresses, phone numbers and social profiles anywhere on the page (footers included). */
export function findContactDetails(survey: PageSurvey, jsonLd: readonly unknown[]): ContactDetails {
  return { emails: emailsOf(survey), phones: phonesOf(survey), socialLinks: socialLinksOf(survey, jsonLd) };
}
