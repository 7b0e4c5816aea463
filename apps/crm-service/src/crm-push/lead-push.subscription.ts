import { leadCreated, leadDeleted, leadImported, leadUpdated, subscribeBatch, type AnySubscription, type EventBatchHandlerContext } from '@gtm/events';
import { JobStatus, type JobQueue } from '@gtm/jobs';
import type { EntityManager } from '@gtm/runtime';
import { CrmConnection, CrmConnectionStatus } from '../crm-connection/crm-connection.entity.js';
import { CrmSyncRun, SyncDirection } from '../crm-sync/crm-sync-run.entity.js';
import { pendingPushTables, withPushLock } from './pending-push.js';

export interface LeadPushSettings {
  queue: () => JobQueue;
  /** How long a push waits for more changes to join it (one batched push instead of one per change). */
  delayMs: number;
}

// Lead fields no CRM mapping reaches: a change to these alone pushes nothing.
const unsyncedFields = new Set(['status', 'source', 'notes']);

/**
 * A lead created, changed or deleted here is pushed to every connected CRM of its tenant: the event
 * queues the lead for each connection (one row per lead, however often it changed) and makes sure
 * one push run is waiting, `delayMs` out, to send what gathered through the sync's own export (so
 * echo recognition and the three-way merge hold). A change the connection's own sync wrote (its
 * link was written at or after the lead's change) is not queued: nothing goes back where it came from.
 *
 * Leads change by the thousand (an import, a bulk edit, enrichment), so events come in batches (one
 * per tenant, one event per lead): the connections are read once, and each connection's queue takes
 * the batch's leads in one statement under its push lock, with one look for a waiting run.
 */
export function leadPushSubscriptions(settings: LeadPushSettings): AnySubscription[] {
  const queueChanges = async (leads: Array<{ id: string; updatedAt: string }>, { em }: EventBatchHandlerContext) => {
    if (leads.length === 0) return;
    const connections = await pushableConnections(em);
    if (connections.length === 0) return;
    const { pending, link } = pendingPushTables(em);
    const changes = JSON.stringify(leads.map((lead) => ({ lead_id: lead.id, updated_at: lead.updatedAt })));
    for (const connection of connections) {
      await withPushLock(em, connection.id, async (transaction) => {
        const rows = await transaction.execute<unknown[]>(
          `insert into ${pending} (connection_id, lead_id, tenant_id, delete_external_id, queued_at)
             select ?, changed.lead_id, ?, null, date_trunc('milliseconds', clock_timestamp())
               from jsonb_to_recordset(?::jsonb) as changed(lead_id uuid, updated_at timestamptz)
              where not exists (select 1 from ${link} link where link.connection_id = ? and link.lead_id = changed.lead_id and link.last_synced_at >= changed.updated_at)
             on conflict (connection_id, lead_id) do update set queued_at = excluded.queued_at where ${pending}.delete_external_id is null
           returning lead_id`,
          [connection.id, connection.tenantId, changes, connection.id],
        );
        if (rows.length > 0) await ensurePushRun(transaction, connection, settings);
      });
    }
  };
  return [
    subscribeBatch(leadCreated, (events, context) => queueChanges(events.map((event) => event.data.lead), context)),
    // An import's new leads carry no snapshot: the leads as they stand now are what the push sends
    // anyway; one deleted since has nothing to push (its lead.deleted follows).
    subscribeBatch(leadImported, async (events, context) => {
      const leads = await context.em.execute<Array<{ id: string; updated_at: Date }>>(
        `select id, updated_at from ${pendingPushTables(context.em).lead} where tenant_id = ? and id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
        [context.tenantId, JSON.stringify(events.map((event) => event.entity.id))],
      );
      await queueChanges(leads.map((lead) => ({ id: lead.id, updatedAt: new Date(lead.updated_at).toISOString() })), context);
    }),
    subscribeBatch(leadUpdated, (events, context) =>
      queueChanges(
        events.filter((event) => !event.data.changed.every((field) => unsyncedFields.has(field))).map((event) => event.data.lead),
        context,
      ),
    ),
    // The delete's own transaction queued the records to delete (a trigger, before its links went):
    // a run is made sure of for each connection that has one.
    subscribeBatch(leadDeleted, async (events, { em }) => {
      const { pending } = pendingPushTables(em);
      const rows = await em.execute<Array<{ connection_id: string }>>(
        `select distinct connection_id from ${pending} where lead_id in (select jsonb_array_elements_text(?::jsonb)::uuid) and delete_external_id is not null`,
        [JSON.stringify(events.map((event) => event.entity.id))],
      );
      if (rows.length === 0) return;
      const connections = await pushableConnections(em, rows.map((row) => row.connection_id));
      for (const connection of connections) await withPushLock(em, connection.id, (transaction) => ensurePushRun(transaction, connection, settings));
    }),
  ];
}

/** The tenant's connections a push can go to (a PAUSED one gets its push when its pause ends). */
function pushableConnections(em: EntityManager, ids?: string[]): Promise<CrmConnection[]> {
  return em.find(CrmConnection, { status: { $in: [CrmConnectionStatus.ACTIVE, CrmConnectionStatus.PAUSED] }, ...(ids ? { id: { $in: ids } } : {}) });
}

/**
 * One push run waiting per connection: another change finds it QUEUED and joins it. Under the
 * connection's push lock, which the run takes to see that nothing is left before it ends — so a
 * change either is seen by a run or finds none waiting and queues its own.
 */
async function ensurePushRun(em: EntityManager, connection: CrmConnection, settings: LeadPushSettings): Promise<void> {
  const waiting = await em.count(CrmSyncRun, { connectionId: connection.id, trigger: 'lead-change', status: JobStatus.QUEUED });
  if (waiting > 0) return;
  const runAt = new Date(Math.max(Date.now() + settings.delayMs, connection.pausedUntil?.getTime() ?? 0));
  await settings.queue().submit(
    em,
    async (transaction) => {
      const run = transaction.create(CrmSyncRun, { tenantId: connection.tenantId, connectionId: connection.id, direction: SyncDirection.EXPORT, full: false, trigger: 'lead-change', status: JobStatus.QUEUED, total: 1 });
      run.subjectType = 'CrmConnection';
      run.subjectId = connection.id;
      transaction.persist(run);
      return run;
    },
    { runAt },
  );
}
