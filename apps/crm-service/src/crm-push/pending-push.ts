import type { EntityManager } from '@gtm/runtime';

/** Schema-qualified tables of the push queue (raw SQL: rows keyed by connection and lead, no entity). */
export function pendingPushTables(em: EntityManager) {
  const schema = em.config.get('schema');
  return { pending: `"${schema}"."crm_pending_push"`, link: `"${schema}"."crm_record_link"`, lead: `"${schema}"."lead"` };
}

/** A lead waiting to be pushed to one connection. */
export interface PendingPush {
  leadId: string;
  /** Set when the lead was deleted here: the record to delete at the CRM. */
  deleteExternalId: string | null;
  queuedAt: Date;
}

/**
 * Runs `work` holding the connection's push lock (a transaction-scoped advisory lock): queuing a
 * change and deciding that a run has nothing left are never interleaved.
 */
export async function withPushLock<T>(em: EntityManager, connectionId: string, work: (transaction: EntityManager) => Promise<T>): Promise<T> {
  return em.transactional(async (transaction) => {
    await transaction.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`crm-push:${connectionId}`]);
    return work(transaction);
  });
}

/** The oldest leads waiting for this connection. */
export async function readPendingPushes(em: EntityManager, connectionId: string, limit: number): Promise<PendingPush[]> {
  const { pending } = pendingPushTables(em);
  const rows = await em.execute<Array<{ lead_id: string; delete_external_id: string | null; queued_at: Date }>>(
    `select lead_id, delete_external_id, queued_at from ${pending} where connection_id = ? order by queued_at, lead_id limit ?`,
    [connectionId, limit],
  );
  return rows.map((row) => ({ leadId: row.lead_id, deleteExternalId: row.delete_external_id, queuedAt: new Date(row.queued_at) }));
}

/** Takes pushed leads off the queue; a lead queued again meanwhile (a later time) stays. */
export async function removePendingPushes(transaction: EntityManager, connectionId: string, pushes: readonly PendingPush[]): Promise<void> {
  if (pushes.length === 0) return;
  const { pending } = pendingPushTables(transaction);
  await transaction.execute(
    `delete from ${pending} pending using jsonb_to_recordset(?::jsonb) as done (lead_id uuid, queued_at timestamptz)
      where pending.connection_id = ? and pending.lead_id = done.lead_id and pending.queued_at = done.queued_at`,
    [JSON.stringify(pushes.map((push) => ({ lead_id: push.leadId, queued_at: push.queuedAt.toISOString() }))), connectionId],
  );
}
