import { conversationLeadOutcome, leadUpdated, publishEvents, subscribeBatch } from '@gtm/events';
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
 * connected CRMs hear of it too. A lead deleted meanwhile has nothing to move. A campaign's sends
 * come by the hundred, so events come in batches (one per tenant, one event per lead): the leads
 * read in one query, written in one flush, the changes published in one statement.
 */
export const leadOutcomeSubscription = subscribeBatch(conversationLeadOutcome, async (events, { em, logger }) => {
  const wanted = events.filter((event) => event.data.leadStatus);
  if (wanted.length === 0) return;
  const leads = new Map((await em.find(Lead, { id: { $in: wanted.map((event) => event.entity.id) } }, { populate: ['company'] })).map((lead) => [lead.id, lead]));
  const moved: Array<{ event: (typeof events)[number]; lead: Lead; from: LeadStatus }> = [];
  for (const event of wanted) {
    const lead = leads.get(event.entity.id);
    const target = event.data.leadStatus as LeadStatus;
    if (!lead || !outcomeMovesLead(lead.status, target)) continue;
    moved.push({ event, lead, from: lead.status });
    lead.status = target;
  }
  if (moved.length === 0) return;
  // Written first, so the snapshots the events carry have the update's own time.
  await em.flush();
  await publishEvents(
    em,
    leadUpdated,
    moved.map(({ event, lead }) => ({ entityId: lead.id, data: { lead: leadSnapshotOf(lead), changed: ['status'] }, requestId: event.requestId })),
  );
  for (const { event, lead, from } of moved) {
    logger.info({ eventId: event.id, leadId: lead.id, from, to: lead.status, outcome: event.data.outcome, conversationId: event.data.conversationId }, 'lead status moved by its conversation');
  }
});
