import { describe, expect, it } from '@jest/globals';
import type { WebsiteAnalysis } from '../website-analysis/website-analysis.client.js';
import { rankContacts, roleOf } from './contacts.js';

const member = (name: string, title: string, extra: Partial<WebsiteAnalysis['teamMembers'][number]> = {}) => ({ name, title, pageUrl: 'https://dealer.example/about', email: null, phone: null, linkedinUrl: null, ...extra });
const analysisWith = (teamMembers: WebsiteAnalysis['teamMembers']) => ({ teamMembers }) as WebsiteAnalysis;

describe('ranking the people a seller writes to', () => {
  it('orders owner, founder, CEO, president, COO, CFO, general manager, VP, director, manager, others', () => {
    const ranked = rankContacts(
      analysisWith([
        member('Ann Sales', 'Sales Associate'),
        member('Dan Director', 'Director of Service'),
        member('Vic Vee', 'VP of Operations'),
        member('Gil Gm', 'General Manager'),
        member('Fay Fin', 'CFO'),
        member('Oli Ops', 'Chief Operating Officer'),
        member('Pat Pres', 'President'),
        member('Cea Chief', 'CEO'),
        member('Fred Found', 'Co-founder'),
        member('Mona Manager', 'Finance Manager'),
        member('Olga Owner', 'Owner & Operator'),
      ]),
      null,
    );
    expect(ranked.map((contact) => contact.title)).toEqual([
      'Owner & Operator',
      'Co-founder',
      'CEO',
      'President',
      'Chief Operating Officer',
      'CFO',
      'General Manager',
      'VP of Operations',
      'Director of Service',
      'Finance Manager',
    ]);
    expect(ranked[0]).toMatchObject({ seniority: 'OWNER', source: 'https://dealer.example/about' });
  });

  it('keeps each person once, their own links, and at most ten', () => {
    const ranked = rankContacts(
      analysisWith([
        member('Rosa Delgado', 'Owner', { email: 'rosa@dealer.example', linkedinUrl: 'https://www.linkedin.com/in/rosa' }),
        member('Rosa  Delgado', 'Owner'),
        ...Array.from({ length: 12 }, (_value, index) => member(`Person ${String.fromCharCode(65 + index)}`, 'Salesperson')),
      ]),
      null,
    );
    expect(ranked).toHaveLength(10);
    expect(ranked.filter((contact) => contact.name.startsWith('Rosa'))).toEqual([
      { name: 'Rosa Delgado', title: 'Owner', email: 'rosa@dealer.example', phone: null, linkedinUrl: 'https://www.linkedin.com/in/rosa', source: 'https://dealer.example/about', seniority: 'OWNER' },
    ]);
  });

  it('puts the person the row names first, and an assistant is not the role they assist', () => {
    const ranked = rankContacts(analysisWith([member('Gil Gm', 'General Manager'), member('Ada Assistant', 'Assistant Manager')]), { name: 'Jo Row', title: 'Purchasing', email: 'jo@dealer.example', phone: null });
    expect(ranked.map((contact) => [contact.name, contact.source, contact.seniority])).toEqual([
      ['Jo Row', 'input', 'OTHER'],
      ['Gil Gm', 'https://dealer.example/about', 'VP'],
      ['Ada Assistant', 'https://dealer.example/about', 'OTHER'],
    ]);
    expect(roleOf('Vice President’s Assistant')).toEqual({ seniority: 'OTHER', rank: 12 });
    expect(rankContacts(null, null)).toEqual([]);
  });
});
