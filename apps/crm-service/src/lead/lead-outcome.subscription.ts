import { conversationLeadOutcome, leadUpdated, publishEvent, subscribe } from '@gtm/events';
import { Lead, LeadStatus } from './lead.entity.js';
import { leadSnapshotOf } from './lead.events.js';

// How far along the funnel each status is. A conversation only ever moves a lead forward: a late
// "contacted" never undoes an "engaged", and nothing a conversation says touches a customer.
const rank: Record<LeadStatus, number> = {
  [LeadStatus.NEW]: 0,
  [LeadStatus.CONTACTED]: 1,
  [LeadStatus.ENGAGED]: 2,
  [LeadStatus.QUALIFIED]: 3,
  [LeadStatus.DISQUALIFIED]: 1,
  [LeadStatus.CUSTOMER]: 9,
};

/** Whether a conversation's outcome moves a lead from `current` to `target`. */
export function outcomeMovesLead(current: LeadStatus, target: LeadStatus): boolean {
  if (current === target || current === LeadStatus.CUSTOMER) return false;
  // A no (or an unsubscribe) disqualifies a lead at any stage before it became a customer.
  if (target === LeadStatus.DISQUALIFIED) return true;
  // A disqualified lead who writes back with interest is engaged again; a mere send does not revive it.
  if (current === LeadStatus.DISQUALIFIED) return target === LeadStatus.ENGAGED || target === LeadStatus.QUALIFIED;
  return rank[target] > rank[current];
}

/**
 * What a conversation came to moves its lead's status (conversation-service publishes
 * `conversation.lead_outcome`), and the change is published as `lead.updated` like any other, so
 * connected CRMs hear of it too. A lead deleted meanwhile has nothing to move.
 */
export const leadOutcomeSubscription = subscribe(conversationLeadOutcome, async (event, { em, logger }) => {
  const target = event.data.leadStatus as LeadStatus | null;
  if (!target) return;
  const lead = await em.findOne(Lead, { id: event.entity.id }, { populate: ['company'] });
  if (!lead || !outcomeMovesLead(lead.status, target)) return;
  const before = lead.status;
  lead.status = target;
  // Written first, so the snapshot the event carries has the update's own time.
  await em.flush();
  await publishEvent(em, leadUpdated, { entityId: lead.id, data: { lead: leadSnapshotOf(lead), changed: ['status'] }, requestId: event.requestId });
  logger.info({ leadId: lead.id, from: before, to: target, outcome: event.data.outcome, conversationId: event.data.conversationId }, 'lead status moved by its conversation');
});
