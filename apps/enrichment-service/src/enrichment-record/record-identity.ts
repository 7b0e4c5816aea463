import { normalizeWebsiteUrl } from '@gtm/runtime';

/** What the first enrichment step learns about a record: the company it belongs to. */
export type RecordIdentity =
  | { found: true; domain: string; normalizedWebsite: string | null }
  | { found: false; failureReason: string };

// Mailbox providers: an address there says nothing about the company the person works for.
const personalMailDomains = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'msn.com',
  'aol.com',
  'icloud.com',
  'me.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.de',
  'web.de',
  'mail.com',
  'yandex.ru',
  'qq.com',
  'ymail.com',
  'rocketmail.com',
  // Internet providers' mailboxes: common on small-business lists, and no company's website.
  'att.net',
  'sbcglobal.net',
  'bellsouth.net',
  'comcast.net',
  'verizon.net',
  'cox.net',
  'charter.net',
  'earthlink.net',
  'juno.com',
  'netzero.net',
  'optonline.net',
  'rr.com',
  'roadrunner.com',
  'embarqmail.com',
  'centurylink.net',
  'windstream.net',
  'frontier.com',
  'frontiernet.net',
  'mindspring.com',
  'prodigy.net',
  'tampabay.rr.com',
]);

/** Whether an email domain is a mailbox provider's (gmail.com, att.net…), which names no company. */
export function isPersonalMailDomain(domain: string): boolean {
  const host = domain.toLowerCase();
  return personalMailDomains.has(host) || [...personalMailDomains].some((personal) => host.endsWith(`.${personal}`)) || /^(hotmail|outlook|live|yahoo)\.[a-z.]+$/.test(host);
}

/** The domain of an email address, lower case, or undefined when it is not one. */
export function emailDomainOf(email: string | null | undefined): string | undefined {
  return emailPattern.exec(email?.trim().toLowerCase() ?? '')?.[1];
}

const emailPattern = /^[^\s@]+@([^\s@]+\.[^\s@]+)$/;

function websiteOf(website: string | null): string | null {
  if (!website) return null;
  try {
    return normalizeWebsiteUrl(website);
  } catch {
    return null;
  }
}

/**
 * The company domain of a record: from its website when it has a usable one, else from a work
 * email. Deterministic and offline; the data sources of later steps start from this domain.
 */
export function identifyRecord(record: { email: string | null; website: string | null; companyName?: string | null }): RecordIdentity {
  const normalizedWebsite = websiteOf(record.website);
  if (normalizedWebsite) return { found: true, domain: new URL(normalizedWebsite).hostname.replace(/^www\./, ''), normalizedWebsite };
  const emailDomain = emailPattern.exec(record.email?.trim().toLowerCase() ?? '')?.[1];
  if (emailDomain && !isPersonalMailDomain(emailDomain)) return { found: true, domain: emailDomain, normalizedWebsite: null };
  if (record.website) return { found: false, failureReason: `"${record.website.slice(0, 100)}" is not a website URL, and no work email gives the company.` };
  if (emailDomain) return { found: false, failureReason: `${emailDomain} is a personal mailbox; give the company's website.` };
  if (!record.email && record.companyName) return { found: false, failureReason: 'Only a company name: give its website or a work email.' };
  return { found: false, failureReason: 'Neither a website nor a work email: give one of them.' };
}
