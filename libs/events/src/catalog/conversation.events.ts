// What conversation-service publishes about leads: the contract between it and the services that
// act on a conversation's outcome (crm-service moves the lead's status, and from there connected
// CRMs hear of it). A change consumers could not read is a new version.
import { z } from 'zod';
import { defineEvent } from '../event-definition.js';

/** What a conversation came to for its lead. */
export const conversationOutcomes = ['CONTACTED', 'ENGAGED', 'QUALIFIED', 'DISQUALIFIED', 'UNSUBSCRIBED', 'BOUNCED'] as const;

/** Lead statuses a conversation may move a lead towards; crm-service moves a lead forward only. */
export const conversationLeadStatuses = ['CONTACTED', 'ENGAGED', 'QUALIFIED', 'DISQUALIFIED'] as const;

/**
 * A conversation reached an outcome for its lead: the first email went out (CONTACTED), the lead
 * replied (ENGAGED), agreed to meet (QUALIFIED), said no (DISQUALIFIED), unsubscribed or bounced.
 * The entity is the lead; `leadStatus` is the status it suggests (null when the lead's status has
 * nothing to learn, as for a bounce).
 */
export const conversationLeadOutcome = defineEvent({
  name: 'conversation.lead_outcome',
  version: 1,
  entityType: 'Lead',
  schema: z.object({
    outcome: z.enum(conversationOutcomes),
    leadStatus: z.enum(conversationLeadStatuses).nullable(),
    conversationId: z.uuid(),
    campaignId: z.uuid().nullable(),
    /** The conversation's state after the change. */
    state: z.string(),
    /** The intent of the reply that caused it, when a reply did. */
    intent: z.string().nullable(),
    /** The address the conversation writes to (a bounce or an unsubscribe is about it). */
    email: z.string().nullable(),
    reason: z.string().nullable(),
  }),
});
