import type { CompanyPage } from './company-page.js';

/** What a list row says about the company, as far as recognising its website goes. */
export interface CompanyIdentity {
  name: string;
  phone: string | null;
  address: string | null;
  city: string | null;
  region: string | null;
  postalCode: string | null;
}

export interface PageMatch {
  /** What the page showed of the company: `name`, `phone`, `place`, `domain`. */
  matched: string[];
  /** Enough to believe the page is the company's. */
  confirmed: boolean;
  /** 0..1. */
  confidence: number;
  /** The verdict in words. */
  reason: string;
}

// Words of a legal form or filler that say nothing about which company it is.
const legalWords = new Set([
  'inc', 'incorporated', 'llc', 'l', 'c', 'corp', 'corporation', 'co', 'company', 'ltd', 'limited', 'lp', 'llp', 'pllc', 'pa', 'pc', 'plc', 'dba', 'the',
  'of', 'and', 'enterprises', 'group', 'holdings', 'intl', 'international',
]);

const usStates: Record<string, string> = {
  AL: 'alabama', AK: 'alaska', AZ: 'arizona', AR: 'arkansas', CA: 'california', CO: 'colorado', CT: 'connecticut', DE: 'delaware', FL: 'florida',
  GA: 'georgia', HI: 'hawaii', ID: 'idaho', IL: 'illinois', IN: 'indiana', IA: 'iowa', KS: 'kansas', KY: 'kentucky', LA: 'louisiana', ME: 'maine',
  MD: 'maryland', MA: 'massachusetts', MI: 'michigan', MN: 'minnesota', MS: 'mississippi', MO: 'missouri', MT: 'montana', NE: 'nebraska', NV: 'nevada',
  NH: 'new hampshire', NJ: 'new jersey', NM: 'new mexico', NY: 'new york', NC: 'north carolina', ND: 'north dakota', OH: 'ohio', OK: 'oklahoma',
  OR: 'oregon', PA: 'pennsylvania', RI: 'rhode island', SC: 'south carolina', SD: 'south dakota', TN: 'tennessee', TX: 'texas', UT: 'utah', VT: 'vermont',
  VA: 'virginia', WA: 'washington', WV: 'west virginia', WI: 'wisconsin', WY: 'wyoming', DC: 'district of columbia',
};

/** The full name of a US state given by abbreviation, or the name as given. */
export function stateName(region: string): string {
  return usStates[region.trim().toUpperCase()] ?? region.trim().toLowerCase();
}

/** Lower case, `&` as `and`, accents and punctuation gone, single spaces. */
export function normalizeForMatch(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** The words that tell this company from others: its name without legal form and filler. */
export function distinctiveNameWords(name: string): string[] {
  return normalizeForMatch(name)
    .split(' ')
    .filter((word) => word.length > 0 && !legalWords.has(word));
}

const compact = (text: string) => normalizeForMatch(text).replace(/ /g, '');

/** The last ten digits of a phone number (a US number without its country code), or null. */
export function phoneKey(phone: string | null): string | null {
  const digits = (phone ?? '').replace(/\D/g, '');
  return digits.length >= 10 ? digits.slice(-10) : null;
}

/**
 * Whether the page names the company: its distinctive words together (spacing and punctuation
 * aside, so "J D Sanders" is "JD Sanders"), or at least three quarters of them as words.
 */
function namesCompany(words: string[], page: { text: string; title: string; names: string[] }): boolean {
  if (words.length === 0) return false;
  const haystack = `${page.title} ${page.names.join(' ')} ${page.text}`;
  const compactName = words.join('');
  if (compactName.length >= 4 && compact(haystack).includes(compactName)) return true;
  if (words.length < 2) return false;
  const pageWords = new Set(normalizeForMatch(haystack).split(' '));
  const found = words.filter((word) => pageWords.has(word)).length;
  return found / words.length >= 0.75;
}

/** Whether the site's host carries the name ("broadwayautobrokers.com" for Broadway Auto Brokers). */
function domainCarriesName(words: string[], host: string): boolean {
  const label = compact(host.replace(/^www\./, '').split('.').slice(0, -1).join(''));
  const significant = words.filter((word) => word.length >= 3);
  if (significant.length === 0) return false;
  const inDomain = significant.filter((word) => label.includes(word)).length;
  return inDomain / significant.length >= 0.5;
}

function showsPlace(identity: CompanyIdentity, page: { text: string; addresses: string[] }): boolean {
  const haystack = ` ${normalizeForMatch(`${page.addresses.join(' ')} ${page.text}`)} `;
  const postal = identity.postalCode?.trim().slice(0, 5);
  if (postal && /^\d{5}$/.test(postal) && haystack.includes(` ${postal} `)) return true;
  const street = normalizeForMatch(identity.address ?? '').split(' ');
  // A street address: its number and the first word of the street's name.
  if (street.length >= 2 && /^\d+$/.test(street[0]!) && haystack.includes(` ${street[0]} `) && haystack.includes(` ${street[1]} `)) return true;
  if (identity.city) {
    // The town with its state, as an address writes it ("Alachua, FL"): a town merely named
    // ("serving Alachua and Ocala") is not where the company is.
    const city = normalizeForMatch(identity.city);
    const regions = identity.region ? [normalizeForMatch(identity.region), normalizeForMatch(stateName(identity.region))] : [];
    if (city && regions.length === 0 && haystack.includes(` ${city} `)) return true;
    if (city && regions.some((region) => region && haystack.includes(` ${city} ${region} `))) return true;
  }
  return false;
}

function showsPhone(identity: CompanyIdentity, page: CompanyPage): boolean {
  const key = phoneKey(identity.phone);
  if (!key) return false;
  if (page.telephones.some((telephone) => phoneKey(telephone) === key)) return true;
  // Digits as written in the text, with the usual separators taken out: "(352) 415-0010".
  return page.text.replace(/[\s().+\-–]/g, '').includes(key);
}

/**
 * Whether a page is the company's own: its name with its phone or its place (or phone and place
 * together), never the name alone, which a namesake in another town shares. Where the row gives no
 * phone or place to check, the name on a site whose address carries that name is accepted, with a
 * low confidence.
 */
export function matchCompanyPage(identity: CompanyIdentity, page: CompanyPage): PageMatch {
  const words = distinctiveNameWords(identity.name);
  const host = new URL(page.url).hostname;
  const name = namesCompany(words, { text: page.text, title: page.title, names: page.structuredNames });
  const phone = showsPhone(identity, page);
  const place = showsPlace(identity, { text: page.text, addresses: page.structuredAddresses });
  const domain = domainCarriesName(words, host);
  const matched = [name && 'name', phone && 'phone', place && 'place', domain && 'domain'].filter((value): value is string => typeof value === 'string');
  const checkable = phoneKey(identity.phone) !== null || Boolean(identity.city || identity.postalCode || identity.address);
  let confidence = 0;
  if (name && phone && place) confidence = 0.97;
  else if (name && phone) confidence = 0.92;
  else if (phone && place) confidence = 0.85;
  else if (name && place) confidence = 0.8;
  else if (!checkable && name && domain) confidence = 0.6;
  if (confidence > 0 && domain) confidence = Math.min(0.99, Math.round((confidence + 0.02) * 100) / 100);
  const confirmed = confidence > 0;
  let reason: string;
  if (confirmed) reason = `shows the company's ${matched.filter((part) => part !== 'domain').join(', ')}`;
  else if (name) reason = checkable ? 'names the company but shows neither its phone nor its town: possibly a namesake' : 'names the company, but its address does not carry the name';
  else if (phone || place) reason = `shows the ${phone ? 'phone' : 'town'} but not the company's name`;
  else reason = 'does not name the company';
  return { matched, confirmed, confidence, reason };
}
