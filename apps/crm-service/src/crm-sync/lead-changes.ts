import { leadCreated, leadDeleted, leadUpdated, publishEvents, type LeadSnapshot } from '@gtm/events';
import type { EntityManager } from '@gtm/runtime';
import { Lead } from '../lead/lead.entity.js';
import { changedLeadFields, leadSnapshotOf } from '../lead/lead.events.js';
import type { SyncPlan } from './crm-sync.engine.js';

/** The leads a plan changes or deletes, as they stand before it is written. */
export async function leadsBeforePlan(transaction: EntityManager, plan: SyncPlan): Promise<Map<string, LeadSnapshot>> {
  const ids = [...plan.leadUpdates.map((update) => update.id), ...plan.leadMerges.flatMap((merge) => [merge.survivorId, merge.mergedId]), ...plan.leadDeletes];
  return snapshots(transaction, ids);
}

/**
 * A sync's writes here are lead changes like any other: published as lead events in the plan's
 * transaction, so the other services hear of them and the tenant's other CRMs get them pushed
 * (the connection that brought them skips them: its link was written with the change).
 */
export async function publishPlanLeadChanges(transaction: EntityManager, plan: SyncPlan, before: Map<string, LeadSnapshot>, runId: string): Promise<void> {
  const requestId = `crm-sync:${runId}`;
  const created = await snapshots(transaction, plan.leadCreates.map((create) => create.id));
  await publishEvents(
    transaction,
    leadCreated,
    [...created.values()].map((lead) => ({ entityId: lead.id, data: { lead }, requestId })),
  );
  const mergedIds = plan.leadMerges.map((merge) => merge.mergedId);
  const after = await snapshots(transaction, [...plan.leadUpdates.map((update) => update.id), ...plan.leadMerges.map((merge) => merge.survivorId)]);
  const updates = [...after.values()].flatMap((lead) => {
    const previous = before.get(lead.id);
    const changed = previous ? changedLeadFields(previous, lead) : [];
    return changed.length > 0 ? [{ entityId: lead.id, data: { lead, changed }, requestId }] : [];
  });
  await publishEvents(transaction, leadUpdated, updates);
  const deleted = [...new Set([...plan.leadDeletes, ...mergedIds])].flatMap((id) => {
    const lead = before.get(id);
    return lead ? [{ entityId: id, data: { lead }, requestId }] : [];
  });
  await publishEvents(transaction, leadDeleted, deleted);
}

async function snapshots(transaction: EntityManager, ids: string[]): Promise<Map<string, LeadSnapshot>> {
  if (ids.length === 0) return new Map();
  // Refreshed: the plan writes with native statements the identity map does not see.
  const leads = await transaction.find(Lead, { id: { $in: [...new Set(ids)] } }, { refresh: true });
  return new Map(leads.map((lead) => [lead.id, leadSnapshotOf(lead)]));
}
