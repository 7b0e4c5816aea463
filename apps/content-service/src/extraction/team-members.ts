import type { PageKind } from '../crawl/page-kind.js';
import type { PageSection } from './page-section.js';
import { normalizeText } from './text-normalization.js';

export interface TeamMember {
  name: string;
  title: string;
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
      if (title) members.push({ name: normalizeText(item['name']), title: normalizeText(title) });
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
  const seen = new Set<string>();
  return members.filter((member) => {
    const key = member.name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
