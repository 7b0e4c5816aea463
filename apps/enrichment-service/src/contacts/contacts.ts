import type { EnrichedContact } from '../enrichment-record/enrichment-results.js';
import type { WebsiteAnalysis } from '../website-analysis/website-analysis.client.js';

/**
 * Seniority as a seller ranks the people worth writing to, highest first. Each rule is tried in
 * order on the title; the first that matches decides. Rank breaks ties within a level: an owner
 * before a president, a CEO before a COO, a COO before a CFO.
 */
const roleRules: Array<{ pattern: RegExp; seniority: string; rank: number }> = [
  { pattern: /\b(owner|co-?owner|proprietor|principal owner)\b/i, seniority: 'OWNER', rank: 0 },
  { pattern: /\b(founder|co-?founder)\b/i, seniority: 'OWNER', rank: 1 },
  { pattern: /\b(ceo|chief executive)\b/i, seniority: 'C_LEVEL', rank: 2 },
  { pattern: /\bpresident\b/i, seniority: 'C_LEVEL', rank: 3 },
  { pattern: /\b(coo|chief operating)\b/i, seniority: 'C_LEVEL', rank: 4 },
  { pattern: /\b(cfo|chief financial)\b/i, seniority: 'C_LEVEL', rank: 5 },
  { pattern: /\b(cro|cmo|cto|cio|chief [a-z]+ officer|chief [a-z]+)\b/i, seniority: 'C_LEVEL', rank: 6 },
  { pattern: /\b(managing partner|partner|managing director)\b/i, seniority: 'C_LEVEL', rank: 7 },
  { pattern: /\b(general manager|gm|dealer principal|operator)\b/i, seniority: 'VP', rank: 8 },
  { pattern: /\b(evp|svp|vp|vice president)\b/i, seniority: 'VP', rank: 9 },
  { pattern: /\b(director|head of)\b/i, seniority: 'DIRECTOR', rank: 10 },
  { pattern: /\b(manager|supervisor|lead)\b/i, seniority: 'MANAGER', rank: 11 },
];
const otherRank = 12;

/** A title's seniority (OWNER, C_LEVEL, VP, DIRECTOR, MANAGER or OTHER) and its rank (0 first). */
export function roleOf(title: string | null): { seniority: string; rank: number } {
  // "Assistant manager", "vice president's assistant": an assistant is not the role they assist.
  if (!title || /\bassistant\b|\bassociate\b/i.test(title)) return { seniority: 'OTHER', rank: otherRank };
  const rule = roleRules.find((candidate) => candidate.pattern.test(title));
  return rule ? { seniority: rule.seniority, rank: rule.rank } : { seniority: 'OTHER', rank: otherRank };
}

/** Who the row itself names (e.g. an "Owner First Name" column mapped to a contact). */
export interface KnownContact {
  name: string | null;
  title: string | null;
  email: string | null;
  phone: string | null;
}

/**
 * The CONTACTS step: the people the company's own website names with a role (team, about and
 * contact pages, structured data), each with their own email, phone and LinkedIn profile where
 * their card shows one, and the page they were read from; the row's own contact first when it names
 * one. Ranked as a seller would write to them: owner, CEO, president, COO, CFO … manager, others.
 */
export function rankContacts(analysis: WebsiteAnalysis | null, known: KnownContact | null, maximum = 10): EnrichedContact[] {
  const contacts: EnrichedContact[] = [];
  const seen = new Map<string, EnrichedContact>();
  const add = (contact: Omit<EnrichedContact, 'seniority'>) => {
    const key = contact.name.toLowerCase().replace(/\s+/g, ' ');
    const existing = seen.get(key);
    if (existing) {
      // The row's own person, found on the site too: what the row left out is read from their card,
      // and the card is where it came from.
      const filled = (['title', 'email', 'phone', 'linkedinUrl'] as const).filter((field) => !existing[field] && contact[field]);
      for (const field of filled) existing[field] = contact[field];
      if (filled.length > 0) Object.assign(existing, { source: contact.source, seniority: roleOf(existing.title).seniority });
      return;
    }
    const added = { ...contact, seniority: roleOf(contact.title).seniority };
    seen.set(key, added);
    contacts.push(added);
  };
  if (known?.name) add({ name: known.name, title: known.title, email: known.email, phone: known.phone, linkedinUrl: null, source: 'input' });
  for (const member of analysis?.teamMembers ?? []) {
    add({ name: member.name, title: member.title, email: member.email, phone: member.phone, linkedinUrl: member.linkedinUrl, source: member.pageUrl });
  }
  const input = known?.name ? contacts.slice(0, 1) : [];
  const found = contacts.slice(input.length).toSorted((left, right) => roleOf(left.title).rank - roleOf(right.title).rank);
  return [...input, ...found].slice(0, maximum);
}
