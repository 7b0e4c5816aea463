import { createEventCatalog } from '../event-definition.js';
import { conversationLeadOutcome } from './conversation.events.js';
import { enrichmentRecordCompleted } from './enrichment.events.js';
import { leadCreated, leadCustomFieldsChanged, leadDeleted, leadImported, leadUpdated } from './lead.events.js';

export * from './conversation.events.js';
export * from './enrichment.events.js';
export * from './lead.events.js';

/** Every event the services publish to each other. */
export const domainEvents = createEventCatalog([leadCreated, leadImported, leadUpdated, leadCustomFieldsChanged, leadDeleted, conversationLeadOutcome, enrichmentRecordCompleted]);
