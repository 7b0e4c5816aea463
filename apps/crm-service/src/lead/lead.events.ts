import { leadFieldNames, type LeadSnapshot } from '@gtm/events';
import type { Lead } from './lead.entity.js';

/** The lead as its events carry it: the lead.* contract of @gtm/events. */
export function leadSnapshotOf(lead: Lead): LeadSnapshot {
  return {
    id: lead.id,
    firstName: lead.firstName,
    lastName: lead.lastName,
    email: lead.email,
    phone: lead.phone,
    title: lead.title,
    companyId: lead.company?.id ?? null,
    status: lead.status,
    source: lead.source,
    notes: lead.notes,
    createdAt: lead.createdAt.toISOString(),
    updatedAt: lead.updatedAt.toISOString(),
  };
}

/** The fields that differ between two snapshots of one lead, in the contract's order. */
export function changedLeadFields(before: LeadSnapshot, after: LeadSnapshot): Array<(typeof leadFieldNames)[number]> {
  return leadFieldNames.filter((field) => before[field] !== after[field]);
}

const isoTimestamp = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `leadSnapshotOf` in SQL, over the lead table aliased `alias`: for events published by set-based writes. */
export function leadSnapshotSql(alias: string): string {
  return `jsonb_build_object('id', ${alias}.id, 'firstName', ${alias}.first_name, 'lastName', ${alias}.last_name, 'email', ${alias}.email, 'phone', ${alias}.phone,
    'title', ${alias}.title, 'companyId', ${alias}.company_id, 'status', ${alias}.status, 'source', ${alias}.source, 'notes', ${alias}.notes,
    'createdAt', ${isoTimestamp(`${alias}.created_at`)}, 'updatedAt', ${isoTimestamp(`${alias}.updated_at`)})`;
}
