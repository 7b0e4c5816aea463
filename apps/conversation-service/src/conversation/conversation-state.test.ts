import { describe, expect, it } from '@jest/globals';
import { allowedTransitions, assertTransition, canTransition, ConversationState, ImpossibleTransitionError, isOpen } from './conversation-state.js';

describe('conversation states', () => {
  it('moves a conversation the ways a reply can take it', () => {
    expect(canTransition(ConversationState.INITIAL_OUTREACH, ConversationState.AWAITING_RESPONSE)).toBe(true);
    expect(canTransition(ConversationState.AWAITING_RESPONSE, ConversationState.QUALIFYING)).toBe(true);
    expect(canTransition(ConversationState.QUALIFYING, ConversationState.SCHEDULING)).toBe(true);
    expect(canTransition(ConversationState.OBJECTION_HANDLING, ConversationState.NURTURE)).toBe(true);
    expect(canTransition(ConversationState.NURTURE, ConversationState.AWAITING_RESPONSE)).toBe(true);
    // A lead who writes after a close reopens it.
    expect(canTransition(ConversationState.CLOSED, ConversationState.QUALIFYING)).toBe(true);
  });

  it('refuses what cannot happen: nothing leaves an unsubscribe or a bounce, nothing goes back to the start', () => {
    for (const from of [ConversationState.UNSUBSCRIBED, ConversationState.BOUNCED]) {
      for (const to of Object.values(ConversationState).filter((state) => state !== from)) {
        expect(() => assertTransition(from, to)).toThrow(ImpossibleTransitionError);
      }
    }
    for (const from of Object.values(ConversationState)) {
      if (from !== ConversationState.INITIAL_OUTREACH) expect(canTransition(from, ConversationState.INITIAL_OUTREACH)).toBe(false);
    }
    expect(canTransition(ConversationState.QUALIFYING, ConversationState.AWAITING_RESPONSE)).toBe(false);
    expect(canTransition(ConversationState.CLOSED, ConversationState.NURTURE)).toBe(true);
    expect(() => assertTransition(ConversationState.BOUNCED, ConversationState.QUALIFYING)).toThrow('a conversation cannot go from BOUNCED to QUALIFYING');
    // Staying put is never a transition to refuse.
    expect(() => assertTransition(ConversationState.BOUNCED, ConversationState.BOUNCED)).not.toThrow();
  });

  it('knows which states hold their lead', () => {
    expect(Object.values(ConversationState).filter(isOpen)).toEqual([
      ConversationState.INITIAL_OUTREACH,
      ConversationState.AWAITING_RESPONSE,
      ConversationState.QUALIFYING,
      ConversationState.OBJECTION_HANDLING,
      ConversationState.SCHEDULING,
      ConversationState.NURTURE,
    ]);
    // Every state has an entry, and every target is a state.
    expect(Object.keys(allowedTransitions).toSorted()).toEqual(Object.values(ConversationState).toSorted());
  });
});
