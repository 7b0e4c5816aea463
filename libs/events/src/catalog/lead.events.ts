// The lead events crm-service publishes: the contract between it and every service that reacts to
// a lead's changes. A change consumers could not read is a new version.
import { z } from 'zod';
import { defineEvent } from '../event-definition.js';

const timestamp = z.iso.datetime();

/** A lead as it stands once the change is committed (as it stood, for `lead.deleted`). */
export const leadSnapshotSchema = z.object({
  id: z.uuid(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  title: z.string().nullable(),
  companyId: z.uuid().nullable(),
  status: z.enum(['NEW', 'CONTACTED', 'ENGAGED', 'QUALIFIED', 'DISQUALIFIED', 'CUSTOMER']),
  source: z.string(),
  notes: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export type LeadSnapshot = z.infer<typeof leadSnapshotSchema>;

/** The fields `lead.updated` may name as changed. */
export const leadFieldNames = ['firstName', 'lastName', 'email', 'phone', 'title', 'companyId', 'status', 'source', 'notes'] as const;

export const leadCreated = defineEvent({
  name: 'lead.created',
  version: 1,
  entityType: 'Lead',
  schema: z.object({ lead: leadSnapshotSchema }),
});

export const leadUpdated = defineEvent({
  name: 'lead.updated',
  version: 1,
  entityType: 'Lead',
  schema: z.object({ lead: leadSnapshotSchema, changed: z.array(z.enum(leadFieldNames)).min(1) }),
});

/**
 * A lead an import created (in place of `lead.created`, which carries the whole lead): an import
 * creates its leads by the hundred thousand in one statement, and writing each one's snapshot into
 * the outbox was a fifth of the import's time. Published for all of an import's new leads at once
 * (`publishEventForEntities`), delivered as one event per lead, in the lead's stream, before any
 * later event of that lead. A subscriber reads the lead as it stands when it needs its fields.
 */
export const leadImported = defineEvent({
  name: 'lead.imported',
  version: 1,
  entityType: 'Lead',
  schema: z.object({ importId: z.uuid() }),
});

/**
 * A lead's custom fields (the columns of an imported file that map to no field of a lead) changed.
 * Its own event rather than a name in `lead.updated`'s `changed`: that list is a closed set in
 * version 1, so a consumer of it would refuse an event naming custom fields; this one adds to the
 * contract without changing what any consumer already reads. Published alongside `lead.updated`
 * when a change touches both.
 */
export const leadCustomFieldsChanged = defineEvent({
  name: 'lead.custom_fields_changed',
  version: 1,
  entityType: 'Lead',
  schema: z.object({
    /** Every custom field of the lead once the change is committed. */
    customFields: z.record(z.string(), z.string()),
    /** The fields that were added or given another value. */
    changed: z.array(z.string()).min(1),
  }),
});

export const leadDeleted = defineEvent({
  name: 'lead.deleted',
  version: 1,
  entityType: 'Lead',
  schema: z.object({ lead: leadSnapshotSchema }),
});
