import type { PageKind } from '../crawl/page-kind.js';
import type { HtmlDocument } from './html-document.js';
import type { PageSection } from './page-section.js';
import { normalizeText } from './text-normalization.js';

export interface TeamMember {
  name: string;
  title: string;
  /** The person's own address, from a `mailto:` link in their card or their JSON-LD entry. */
  email?: string;
  /** From a `tel:` link in their card or their JSON-LD entry. */
  phone?: string;
  /** Their LinkedIn profile (`linkedin.com/in/…`), from a link in their card or JSON-LD `sameAs`. */
  linkedinUrl?: string;
}

// Words a job title is made of. A line without one is a bio, a quote or a heading, not a title.
const roleWords =
  /\b(ceo|cto|coo|cfo|cmo|cro|cpo|ciso|vp|svp|evp|chief|founder|co-?founder|president|director|head|lead|manager|engineer|designer|partner|officer|principal|chair(man|woman|person)?|advisor|adviser|architect|scientist|analyst|counsel|owner|executive|specialist|consultant|developer|researcher|marketer|recruiter|strategist|controller|accountant|associate|editor|board member|investor)\b/i;
// Sections that present people who work at the company.
const teamHeading = /\b(team|leadership|leaders|founders|people|management|board|who we are|executives|our story)\b/i;
// Words that appear in headings and labels but not in people's names.
const notNameWords = new Set([
  'our', 'the', 'team', 'about', 'us', 'we', 'and', 'for', 'with', 'how', 'why', 'what', 'who', 'our', 'meet', 'join', 'contact', 'company', 'careers',
  'product', 'pricing', 'customers', 'features', 'leadership', 'board', 'investors', 'advisors', 'founders', 'values', 'mission', 'story', 'news',
  'blog', 'home', 'get', 'started', 'book', 'demo', 'sign', 'log', 'in', 'up', 'more', 'learn', 'read', 'all', 'view', 'see', 'platform', 'solutions',
]);
const namePart = /^(\p{Lu}[\p{L}'’.-]*|(van|von|der|den|de|da|di|du|del|la|le|bin|al|el|ter|ten)|\p{Lu}\.)$/u;

/** "Maya Okafor", "Jean-Luc de la Tour", "A. J. Smith": 2 to 5 capitalised words, no digits, no heading words. */
export function looksLikePersonName(text: string): boolean {
  if (text.length > 60 || /[\d@/|:!?]/.test(text)) return false;
  const parts = text.split(' ');
  if (parts.length < 2 || parts.length > 5) return false;
  if (parts.some((part) => notNameWords.has(part.toLowerCase()) || !namePart.test(part))) return false;
  return !roleWords.test(text) && /^\p{Lu}/u.test(parts[0]!) && /^\p{Lu}/u.test(parts.at(-1)!);
}

/** "VP of Sales", "Co-founder & CEO", "Support Agent": short, with a word jobs are named by. */
export function looksLikeJobTitle(text: string): boolean {
  return text.length <= 80 && text.split(' ').length <= 10 && roleWords.test(text);
}

// "Maya Okafor, CEO", "Maya Okafor – Co-founder & CEO", "Maya Okafor | CTO".
const nameThenTitle = /^(.{3,60}?)\s*(?:,|\s[–—-]\s|\s\|\s)\s*(.{2,80})$/;

function membersInSection(section: PageSection): TeamMember[] {
  const members: TeamMember[] = [];
  const heading = section.headingPath.at(-1);
  const first = section.blocks[0]?.text;
  // A card: the name as the heading, the title as the first line under it.
  if (heading && first && looksLikePersonName(heading) && looksLikeJobTitle(first)) members.push({ name: heading, title: first });
  const blocks = section.blocks;
  for (let index = 0; index < blocks.length; index += 1) {
    const text = blocks[index]!.text;
    const inline = nameThenTitle.exec(text);
    if (inline && looksLikePersonName(inline[1]!) && looksLikeJobTitle(inline[2]!)) {
      members.push({ name: inline[1]!, title: inline[2]! });
      continue;
    }
    // A card without a heading: the name on one line, the title on the next.
    const next = blocks[index + 1]?.text;
    if (next && looksLikePersonName(text) && looksLikeJobTitle(next)) {
      members.push({ name: text, title: next });
      index += 1;
    }
  }
  return members;
}

const linkedInProfile = /^https?:\/\/(?:[a-z]{2,3}\.|www\.)?linkedin\.com\/in\/([^/?#\s]+)/i;

/** A personal LinkedIn profile as `https://www.linkedin.com/in/<id>`, or null for any other link. */
export function linkedInProfileOf(href: string): string | null {
  const match = linkedInProfile.exec(href.trim());
  return match ? `https://www.linkedin.com/in/${match[1]}` : null;
}

/** A JSON-LD person's own email, telephone and LinkedIn profile (`sameAs`, `url`). */
function personLinksInJsonLd(item: Record<string, unknown>): Pick<TeamMember, 'email' | 'phone' | 'linkedinUrl'> {
  const links: Pick<TeamMember, 'email' | 'phone' | 'linkedinUrl'> = {};
  const email = typeof item['email'] === 'string' ? item['email'].replace(/^mailto:/i, '').trim().toLowerCase() : '';
  if (/^[^\s@]+@[^\s@]+\.[a-z]{2,}$/.test(email)) links.email = email;
  if (typeof item['telephone'] === 'string' && item['telephone'].replace(/\D/g, '').length >= 7) links.phone = normalizeText(item['telephone']);
  const sameAs = [item['sameAs'], item['url']].flat().filter((value): value is string => typeof value === 'string');
  const profile = sameAs.map(linkedInProfileOf).find((value) => value !== null);
  if (profile) links.linkedinUrl = profile;
  return links;
}

const typesOf = (item: Record<string, unknown>): string[] => {
  const type = item['@type'];
  return (Array.isArray(type) ? type : [type]).filter((value): value is string => typeof value === 'string');
};

/** People in JSON-LD: `Person` items, and an organisation's `founder`/`founders`/`employee` entries. */
function membersInJsonLd(jsonLd: readonly unknown[]): TeamMember[] {
  const members: TeamMember[] = [];
  const visit = (value: unknown, role: string | null, depth: number): void => {
    if (role && typeof value === 'string' && looksLikePersonName(normalizeText(value))) members.push({ name: normalizeText(value), title: role });
    if (depth > 8 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, role, depth + 1);
      return;
    }
    const item = value as Record<string, unknown>;
    if (typesOf(item).includes('Person') && typeof item['name'] === 'string') {
      const title = typeof item['jobTitle'] === 'string' ? item['jobTitle'] : role;
      if (title) members.push({ name: normalizeText(item['name']), title: normalizeText(title), ...personLinksInJsonLd(item) });
      return;
    }
    for (const [key, child] of Object.entries(item)) {
      if (key === 'founder' || key === 'founders') visit(child, 'Founder', depth + 1);
      else if (key === 'employee' || key === 'employees' || key === 'member' || key === '@graph') visit(child, role, depth + 1);
    }
  };
  visit(jsonLd, null, 0);
  return members;
}

/**
 * People who work at the company, with their titles: cards on about and team pages (and in
 * sections headed "team", "leadership", "founders" … on any page), and people in JSON-LD.
 * Testimonials on other pages name people too; those are customers, so they are not read.
 */
export function findTeamMembers(kind: PageKind, sections: readonly PageSection[], jsonLd: readonly unknown[]): TeamMember[] {
  const members: TeamMember[] = [];
  for (const section of sections) {
    if (kind !== 'ABOUT' && !section.headingPath.some((heading) => teamHeading.test(heading))) continue;
    members.push(...membersInSection(section));
  }
  members.push(...membersInJsonLd(jsonLd));
  // Each person once, as first named; what structured data adds about them (email, profile) is kept.
  const byName = new Map<string, TeamMember>();
  for (const member of members) {
    const known = byName.get(member.name.toLowerCase());
    if (!known) byName.set(member.name.toLowerCase(), { ...member });
    else {
      if (member.email) known.email ??= member.email;
      if (member.phone) known.phone ??= member.phone;
      if (member.linkedinUrl) known.linkedinUrl ??= member.linkedinUrl;
    }
  }
  return [...byName.values()];
}

// A card is small: an ancestor with more text than this is a whole section or page.
const maximumCardCharacters = 1_500;

/**
 * Fills in each member's own email, phone and LinkedIn profile from the links in their card: a
 * `mailto:`, `tel:` or `linkedin.com/in/` link belongs to the person whose name the link's
 * smallest enclosing element names, and to nobody when that element names several people (a
 * shared team list) or none within a card's size (a footer). What JSON-LD already gave is kept.
 */
export function attachMemberContactLinks(document: HtmlDocument, members: readonly TeamMember[]): TeamMember[] {
  const attached = members.map((member) => ({ ...member }));
  if (attached.length === 0) return attached;
  const names = attached.map((member) => member.name.toLowerCase());
  for (const anchor of document.querySelectorAll('a[href]')) {
    const href = anchor.getAttribute('href') ?? '';
    let field: 'email' | 'phone' | 'linkedinUrl';
    let value: string | null;
    if (/^mailto:/i.test(href)) {
      field = 'email';
      value = (href.slice(7).split('?')[0] ?? '').trim().toLowerCase() || null;
    } else if (/^tel:/i.test(href)) {
      field = 'phone';
      const label = normalizeText(anchor.textContent ?? '');
      const number = decodeURIComponent(href.slice(4)).trim();
      value = label.replace(/\D/g, '').length >= 7 && number.replace(/\D/g, '').endsWith(label.replace(/\D/g, '')) ? label : number || null;
    } else {
      field = 'linkedinUrl';
      value = linkedInProfileOf(href);
    }
    if (!value) continue;
    for (let element: Element | null = anchor, depth = 0; element && depth < 8; element = element.parentElement, depth += 1) {
      const text = normalizeText(element.textContent ?? '').toLowerCase();
      if (text.length > maximumCardCharacters) break;
      const named = names.flatMap((name, index) => (text.includes(name) ? [index] : []));
      if (named.length > 1) break;
      if (named.length === 1) {
        const member = attached[named[0]!]!;
        member[field] ??= value;
        break;
      }
    }
  }
  return attached;
}

