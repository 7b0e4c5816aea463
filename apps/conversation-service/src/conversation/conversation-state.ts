import { registerEnumType } from 'type-graphql';

/** Where a conversation with a lead stands (API.md "Conversations"). */
export enum ConversationState {
  /** Enrolled; the first message is not sent yet. */
  INITIAL_OUTREACH = 'INITIAL_OUTREACH',
  /** A message went out; the sequence continues until the lead answers. */
  AWAITING_RESPONSE = 'AWAITING_RESPONSE',
  /** The lead is interested or asks something: find out whether they fit. */
  QUALIFYING = 'QUALIFYING',
  /** The lead objected: answer the objection. */
  OBJECTION_HANDLING = 'OBJECTION_HANDLING',
  /** The lead wants to meet: agree a time. */
  SCHEDULING = 'SCHEDULING',
  /** Not now: follow up on a later date. */
  NURTURE = 'NURTURE',
  /** Over: not interested, the wrong person, a meeting booked, or closed by a person. */
  CLOSED = 'CLOSED',
  /** The lead asked to hear no more; the address is suppressed. Final. */
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  /** The address does not accept mail; it is suppressed. Final. */
  BOUNCED = 'BOUNCED',
}

registerEnumType(ConversationState, { name: 'ConversationState', description: 'Where a conversation with a lead stands.' });

const engaged = [ConversationState.QUALIFYING, ConversationState.OBJECTION_HANDLING, ConversationState.SCHEDULING, ConversationState.NURTURE] as const;
const endings = [ConversationState.CLOSED, ConversationState.UNSUBSCRIBED, ConversationState.BOUNCED] as const;

/**
 * Every transition the engine may make. Anything else is refused (ImpossibleTransitionError), never
 * applied quietly: an unsubscribed or bounced conversation stays so whatever arrives later.
 */
export const allowedTransitions: Record<ConversationState, readonly ConversationState[]> = {
  [ConversationState.INITIAL_OUTREACH]: [ConversationState.AWAITING_RESPONSE, ...engaged, ...endings],
  [ConversationState.AWAITING_RESPONSE]: [...engaged, ...endings],
  [ConversationState.QUALIFYING]: [...engaged, ...endings],
  [ConversationState.OBJECTION_HANDLING]: [...engaged, ...endings],
  [ConversationState.SCHEDULING]: [...engaged, ...endings],
  // A nurture follow-up that goes out waits for an answer again.
  [ConversationState.NURTURE]: [ConversationState.AWAITING_RESPONSE, ...engaged, ...endings],
  // A lead who writes back after a close may reopen it; nothing reopens an unsubscribe or a bounce.
  [ConversationState.CLOSED]: [...engaged, ConversationState.UNSUBSCRIBED, ConversationState.BOUNCED],
  [ConversationState.UNSUBSCRIBED]: [],
  [ConversationState.BOUNCED]: [],
};

/** Conversations in these states hold their lead: a lead has at most one open conversation. */
export const openStates: readonly ConversationState[] = Object.values(ConversationState).filter((state) => !(endings as readonly ConversationState[]).includes(state));

export function isOpen(state: ConversationState): boolean {
  return openStates.includes(state);
}

/** A transition the state machine does not allow. */
export class ImpossibleTransitionError extends Error {
  override readonly name = 'ImpossibleTransitionError';
  readonly isRetryable = false;
  constructor(
    readonly from: ConversationState,
    readonly to: ConversationState,
  ) {
    super(`a conversation cannot go from ${from} to ${to}`);
  }
}

export function canTransition(from: ConversationState, to: ConversationState): boolean {
  return from === to || allowedTransitions[from].includes(to);
}

/** Checks a transition; staying in a state is always allowed. */
export function assertTransition(from: ConversationState, to: ConversationState): void {
  if (!canTransition(from, to)) throw new ImpossibleTransitionError(from, to);
}
