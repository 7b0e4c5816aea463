import { leadCreated, leadDeleted, leadImported, leadUpdated, subscribe, type AnySubscription, type EventHandlerContext } from '@gtm/events';
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
 * A lead created (by hand, or by an import: `lead.imported`), changed or deleted here is pushed to every connected CRM of its tenant: the event
 * queues the lead for each connection (one row per lead, however often it changed) and makes sure
 * one push run is waiting, `delayMs` out, to send what gathered through the sync's own export (so
 * echo recognition and the three-way merge hold). A change the connection's own sync wrote (its
 * link was written at or after the lead's change) is not queued: nothing goes back where it came from.
 */
export function leadPushSubscriptions(settings: LeadPushSettings): AnySubscription[] {
  const queueChange = async (lead: { id: string; updatedAt: string }, { em }: EventHandlerContext) => {
    const connections = await pushableConnections(em);
    if (connections.length === 0) return;
    const { pending, link } = pendingPushTables(em);
    for (const connection of connections) {
      await withPushLock(em, connection.id, async (transaction) => {
        const rows = await transaction.execute<unknown[]>(
          `insert into ${pending} (connection_id, lead_id, tenant_id, delete_external_id, queued_at)
             select ?, ?, ?, null, date_trunc('milliseconds', clock_timestamp())
              where not exists (select 1 from ${link} link where link.connection_id = ? and link.lead_id = ? and link.last_synced_at >= ?::timestamptz)
             on conflict (connection_id, lead_id) do update set queued_at = excluded.queued_at where ${pending}.delete_external_id is null
           returning lead_id`,
          [connection.id, lead.id, connection.tenantId, connection.id, lead.id, lead.updatedAt],
        );
        if (rows.length > 0) await ensurePushRun(transaction, connection, settings);
      });
    }
  };
  return [
    subscribe(leadCreated, (event, context) => queueChange(event.data.lead, context)),
    // An import's new lead carries no snapshot: the lead as it stands now is what the push sends
    // anyway; one deleted since has nothing to push (its lead.deleted follows).
    subscribe(leadImported, async (event, context) => {
      const [lead] = await context.em.execute<Array<{ id: string; updated_at: Date }>>(`select id, updated_at from ${pendingPushTables(context.em).lead} where id = ?`, [event.entity.id]);
      if (lead) await queueChange({ id: lead.id, updatedAt: new Date(lead.updated_at).toISOString() }, context);
    }),
    subscribe(leadUpdated, async (event, context) => {
      if (event.data.changed.every((field) => unsyncedFields.has(field))) return;
      await queueChange(event.data.lead, context);
    }),
    // The delete's own transaction queued the records to delete (a trigger, before its links went):
    // a run is made sure of for each connection that has one.
    subscribe(leadDeleted, async (event, { em }) => {
      const { pending } = pendingPushTables(em);
      const rows = await em.execute<Array<{ connection_id: string }>>(`select connection_id from ${pending} where lead_id = ? and delete_external_id is not null`, [event.entity.id]);
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
