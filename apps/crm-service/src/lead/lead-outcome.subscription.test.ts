import { describe, expect, it } from '@jest/globals';
import { outcomeMovesLead } from './lead-outcome.subscription.js';
import { LeadStatus } from './lead.entity.js';

describe('a conversation’s outcome and the lead’s status', () => {
  it('moves a lead forward only, never touches a customer, and lets a no disqualify at any stage', () => {
    expect(outcomeMovesLead(LeadStatus.NEW, LeadStatus.CONTACTED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.CONTACTED, LeadStatus.ENGAGED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.ENGAGED, LeadStatus.QUALIFIED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.QUALIFIED, LeadStatus.ENGAGED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.ENGAGED, LeadStatus.CONTACTED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.CUSTOMER, LeadStatus.DISQUALIFIED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.CUSTOMER, LeadStatus.QUALIFIED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.DISQUALIFIED, LeadStatus.CONTACTED)).toBe(false);
    expect(outcomeMovesLead(LeadStatus.DISQUALIFIED, LeadStatus.ENGAGED)).toBe(true);
    expect(outcomeMovesLead(LeadStatus.ENGAGED, LeadStatus.ENGAGED)).toBe(false);
  });
});
