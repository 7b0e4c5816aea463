import { createHash } from 'node:crypto';
import type { CompanySite } from './company-sites.js';
import type { SearchDocument } from './fake-search-server.js';

/** A company of a lead list, as its fixture website and search results describe it. */
export interface LeadCompany {
  /** As the list writes it: "BROADWAY AUTO BROKERS INC". */
  name: string;
  address: string;
  city: string;
  state: string;
  zip: string;
  phone: string;
  /** Makes the invented parts (people, founding year) stable for this company. */
  key: string;
  /** What the company does, for its pages: "used cars", "generators and electrical work". Default: used cars. */
  trade?: string;
}

export interface LeadSiteOptions {
  /** A team page with the owner and managers (with email and LinkedIn links). Default: true. */
  team?: boolean;
  /** A namesake company in another town, with its own site, ranked above the real one. Default: false. */
  namesake?: boolean;
  /** Whether the company has a website at all (otherwise only directory listings find it). Default: true. */
  hasWebsite?: boolean;
  /** The origin a host is served at, for the search results' links (`CompanySitesServer.origin`). Default: `http://<host>`. */
  origin?: (host: string) => string;
}

export interface LeadSiteFixture {
  /** The company's own site (absent without one) and the namesake's. */
  sites: CompanySite[];
  /** What a search engine knows about the company: directory listings first, as real engines rank them. */
  documents: SearchDocument[];
  /** The company's own host, or null. */
  host: string | null;
  owner: { name: string; title: string; email: string; linkedinUrl: string } | null;
  foundedYear: number;
}

const firstNames = ['Rosa', 'Marcus', 'Linda', 'Tomás', 'Keisha', 'Walter', 'Priya', 'Darnell', 'Helen', 'Victor', 'Grace', 'Omar', 'Julia', 'Frank', 'Aisha', 'Carl'];
const lastNames = ['Delgado', 'Whitfield', 'Nguyen', 'Okafor', 'Brennan', 'Castillo', 'Hargrove', 'Patel', 'Moreau', 'Sullivan', 'Ibarra', 'Kowalski', 'Duarte', 'Fischer'];
const legalForm = /\b(inc|incorporated|llc|l\.l\.c|corp|corporation|co|ltd|pllc|pa)\.?$/i;

function pick<T>(list: readonly T[], digest: Buffer, index: number): T {
  return list[digest[index]! % list.length]!;
}

/** "BROADWAY AUTO BROKERS INC" → "Broadway Auto Brokers". */
export function displayName(name: string): string {
  const bare = name.trim().replace(legalForm, '').trim();
  return bare === bare.toUpperCase() ? bare.toLowerCase().replace(/\b([a-z])/g, (letter) => letter.toUpperCase()) : bare;
}

/** "Broadway Auto Brokers" → "broadwayautobrokers". */
export function hostLabel(name: string): string {
  return displayName(name).toLowerCase().replace(/&/g, 'and').replace(/[^a-z0-9]+/g, '').slice(0, 40) || 'company';
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function layout(title: string, company: string, body: string, footer: string, jsonLd?: unknown): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="description" content="${escape(`${company}: ${title}`)}">
${jsonLd ? `<script type="application/ld+json">${JSON.stringify(jsonLd)}</script>` : ''}</head>
<body><header><nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/contact">Contact</a></nav></header>
<main>${body}</main>
<footer>${footer}</footer></body></html>`;
}

/**
 * A believable small-business website for a company of a lead list (home, about with the team,
 * contact), the namesake's when asked for, and what a search engine lists for the company's name:
 * a Yelp and a Facebook page first, then the sites. The people and the founding year are invented,
 * the same every time for the same company.
 */
export function leadSiteFixture(company: LeadCompany, options: LeadSiteOptions = {}): LeadSiteFixture {
  const digest = createHash('sha256').update(company.key).digest();
  const name = displayName(company.name);
  const label = hostLabel(company.name);
  const trade = company.trade ?? 'used cars';
  const cars = trade === 'used cars';
  const foundedYear = 1962 + (digest[0]! % 55);
  const ownerName = `${pick(firstNames, digest, 1)} ${pick(lastNames, digest, 2)}`;
  const managerName = `${pick(firstNames, digest, 3)} ${pick(lastNames, digest, 4)}`;
  const financeName = `${pick(firstNames, digest, 5)} ${pick(lastNames, digest, 6)}`;
  const hasWebsite = options.hasWebsite ?? true;
  const origin = options.origin ?? ((siteHost: string) => `http://${siteHost}`);
  const host = hasWebsite ? `${label}.test` : null;
  const place = `${company.city}, ${company.state} ${company.zip}`;
  const owner = host && (options.team ?? true) ? { name: ownerName, title: 'Owner', email: `${ownerName.split(' ')[0]!.toLowerCase()}@${host}`, linkedinUrl: `https://www.linkedin.com/in/${ownerName.toLowerCase().replace(/\s+/g, '-')}-${digest[7]}` } : null;

  const siteFor = (siteHost: string, address: string, sitePlace: string, phone: string, year: number, team: boolean): CompanySite => {
    const footer = `<p>${escape(name)} · ${escape(address)}, ${escape(sitePlace)} · <a href="tel:${phone.replace(/\D/g, '')}">${escape(phone)}</a></p>`;
    const jsonLd = { '@context': 'https://schema.org', '@type': cars ? 'AutoDealer' : 'Electrician', name, telephone: phone, address: { '@type': 'PostalAddress', streetAddress: address, addressLocality: sitePlace } };
    const home = layout(
      `${name} | ${trade} in ${sitePlace.split(' ').slice(0, -1).join(' ')}`,
      name,
      `<h1>${escape(name)}</h1>
<p>Family owned and operated since ${year}, ${escape(name)} has helped our neighbours find dependable ${escape(trade)} at honest prices.</p>
<h2>Why drivers choose us</h2>
<ul><li>${cars ? 'Every vehicle inspected by our own certified technicians before it reaches the lot.' : 'Every installation done by our own licensed technicians, never subcontracted.'}</li><li>Financing for every credit situation, approved the same day.</li><li>${cars ? 'A 90-day limited warranty on most of our inventory.' : 'A five-year warranty on parts and labour.'}</li></ul>
<h2>Serving our community</h2>
<p>We sponsor the local youth baseball league and were voted the area's most trusted ${cars ? 'dealer' : 'installer'} three years in a row.</p>`,
      footer,
      jsonLd,
    );
    const teamSection = team
      ? `<h2>Meet our team</h2>
<div class="card"><h3>${escape(ownerName)}</h3><p>Owner</p><a href="mailto:${owner!.email}">Email ${escape(ownerName.split(' ')[0]!)}</a> <a href="${owner!.linkedinUrl}">LinkedIn</a></div>
<div class="card"><h3>${escape(managerName)}</h3><p>General Manager</p></div>
<div class="card"><h3>${escape(financeName)}</h3><p>Finance Manager</p></div>`
      : '';
    const about = layout(
      `About ${name}`,
      name,
      `<h1>About ${escape(name)}</h1>
<h2>Our story</h2>
<p>${escape(name)} opened its doors in ${year} with ${cars ? 'a handful of cars' : 'one truck'} and a promise to treat every customer like family. Today we are still family owned, still on ${escape(address)}, and still answering the phone ourselves.</p>
${teamSection}`,
      footer,
    );
    const contact = layout(`Contact ${name}`, name, `<h1>Contact us</h1><p>Visit us at ${escape(address)}, ${escape(sitePlace)}.</p><p>Call <a href="tel:${phone.replace(/\D/g, '')}">${escape(phone)}</a>, Monday to Saturday.</p>`, footer);
    return { host: siteHost, pages: { '/': home, '/about': about, '/contact': contact, '/robots.txt': 'User-agent: *\nAllow: /\n' } };
  };

  const sites: CompanySite[] = [];
  const documents: SearchDocument[] = [
    { url: `https://www.yelp.com/biz/${label}-${company.city.toLowerCase().replace(/\s+/g, '-')}`, title: `${name} - ${company.city}, ${company.state} - Yelp`, snippet: `${name} in ${company.city}. Read reviews of ${name}, ${trade}.` },
    { url: `https://www.facebook.com/${label}`, title: `${name} | ${company.city} ${company.state} | Facebook`, snippet: `${name}, ${company.address}, ${place}. ${trade}.` },
  ];
  if (options.namesake) {
    const namesakeHost = `${label}-of-orlando.test`;
    sites.push(siteFor(namesakeHost, '7701 International Dr', 'Orlando, FL 32819', '(407) 555-0142', foundedYear + 3, false));
    // Ranked with the real site (same title), and listed first: the first hit is the wrong company.
    documents.push({ url: `${origin(namesakeHost)}/`, title: `${name} | ${trade} in ${company.city}, ${company.state}`, snippet: `${name}: ${trade}, financing and service near ${company.city}, ${company.state}.` });
  }
  if (host) {
    sites.push(siteFor(host, company.address, place, company.phone, foundedYear, options.team ?? true));
    documents.push({ url: `${origin(host)}/`, title: `${name} | ${trade} in ${company.city}, ${company.state}`, snippet: `${name}: ${trade}, financing and service. ${company.address}, ${place}.` });
  }
  return { sites, documents, host, owner, foundedYear };
}
