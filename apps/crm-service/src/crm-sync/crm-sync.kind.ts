import { createHash } from 'node:crypto';
import { defineJobKind, JobStatus, type JobQueue, type JobRunContext } from '@gtm/jobs';
import type { EntityManager } from '@gtm/runtime';
import { CrmConnection, CrmConnectionStatus } from '../crm-connection/crm-connection.entity.js';
import type { CrmConnectionService } from '../crm-connection/crm-connection.service.js';
import type { CrmAdapter, CrmChange, CrmChangePage } from '../crm-provider/crm-provider.js';
import { isCrmProviderError } from '../crm-provider/crm-provider.error.js';
import { providerLabel } from '../crm-provider/field-mapping.js';
import { CrmDeadLetter, CrmSyncSide } from '../crm-dead-letter/crm-dead-letter.entity.js';
import { readPendingPushes, removePendingPushes, withPushLock, type PendingPush } from '../crm-push/pending-push.js';
import { Lead } from '../lead/lead.entity.js';
import { CrmSyncEngine, writePlan, type SyncCounts, type SyncPlan } from './crm-sync.engine.js';
import { CrmSyncRun, crmSyncJobKind, SyncDirection, type StoredWebhookEvent } from './crm-sync-run.entity.js';

type SyncItem =
  | { kind: 'import'; key: string; page: CrmChangePage; last: boolean }
  | { kind: 'export'; key: string; leads: Lead[]; cursorAt: Date; cursorLeadId: string }
  | { kind: 'events'; key: string; events: StoredWebhookEvent[] }
  | { kind: 'replay'; key: string; letters: CrmDeadLetter[] }
  | { kind: 'push'; key: string; pushes: PendingPush[] };

interface SyncState {
  connection: CrmConnection | null;
  adapter: CrmAdapter | null;
  engine: CrmSyncEngine | null;
  /** Why the run stops early: revoked credentials, a disconnected connection. */
  stopped: string | null;
  /** Set when the provider's daily cap stopped the run. */
  pausedUntil: Date | null;
  pauseReason: string | null;
}

export interface CrmSyncKindSettings {
  connections: CrmConnectionService;
  /** The queue runs are submitted to (a resumption after a daily cap). */
  queue: () => JobQueue;
  /** How far before the stored cursor an incremental import starts. */
  overlapMs: number;
  /** Records per provider page. */
  pageSize: number;
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/** The run's table and the job table, schema-qualified, for increments MikroORM cannot express on a table-per-type child. */
function tables(em: EntityManager) {
  const schema = em.config.get('schema');
  return { run: `"${schema}"."crm_sync_run"`, job: `"${schema}"."job"`, connection: `"${schema}"."crm_connection"`, lead: `"${schema}"."lead"`, link: `"${schema}"."crm_record_link"` };
}

/** Stops the run for a provider error that retrying cannot fix (revoked credentials, a spent daily cap); false for any other. */
function stopFor(error: unknown, state: SyncState): boolean {
  if (!isCrmProviderError(error)) return false;
  const label = providerLabel(error.provider);
  if (error.kind === 'daily-limit') {
    state.pausedUntil = error.resumeAt ?? new Date(Date.now() + 3_600_000);
    state.pauseReason = `${label}'s daily API limit is spent`;
    return true;
  }
  if (error.kind === 'unauthorized' || error.kind === 'forbidden') {
    state.stopped = `${label} refused the credentials mid-sync (${error.message}). Connect again with new credentials.`;
    return true;
  }
  return false;
}

async function* importPages(context: JobRunContext<CrmSyncRun, SyncState>, settings: CrmSyncKindSettings): AsyncGenerator<SyncItem> {
  const { job, state } = context;
  const connection = state.connection!;
  const cursor = connection.importCursor ? new Date(connection.importCursor.getTime() - settings.overlapMs) : null;
  const since = job.importResumeFrom ? new Date(job.importResumeFrom.getTime() - settings.overlapMs) : job.full ? null : cursor;
  const fetchPage = (pageToken: string | null) => state.adapter!.listChanges({ since, pageToken, pageSize: settings.pageSize, fields: state.engine!.providerFields, signal: context.signal });
  let pageToken: string | null = null;
  let pending: Promise<CrmChangePage> = fetchPage(null);
  for (;;) {
    let page: CrmChangePage;
    try {
      page = await pending;
    } catch (error) {
      if (stopFor(error, state)) return;
      throw error;
    }
    // The next page is asked for while this one is applied: the provider's latency overlaps our work.
    if (page.nextPageToken) {
      pending = fetchPage(page.nextPageToken);
      pending.catch(() => undefined);
    }
    yield { kind: 'import', key: `import:${since?.getTime() ?? 'all'}:${shortHash(pageToken ?? 'first')}`, page, last: !page.nextPageToken };
    if (!page.nextPageToken || state.stopped || state.pausedUntil) return;
    pageToken = page.nextPageToken;
  }
}

/**
 * What lead events queued for the connection, oldest first, in batches the provider takes at once.
 * The queue is read again after each batch commits (taking the batch off it); the last, empty read
 * is made under the connection's push lock, so a change queued meanwhile either is read here or
 * finds this run no longer waiting and queues the next.
 */
async function* pushBatches(context: JobRunContext<CrmSyncRun, SyncState>): AsyncGenerator<SyncItem> {
  const { state, em } = context;
  const connectionId = state.connection!.id;
  const batchSize = state.adapter!.maximumBatchSize;
  let previousKey: string | null = null;
  for (;;) {
    let pushes = await readPendingPushes(em, connectionId, batchSize);
    if (pushes.length === 0) pushes = await withPushLock(em.fork(), connectionId, (transaction) => readPendingPushes(transaction, connectionId, batchSize));
    if (pushes.length === 0) return;
    const key = `push:${shortHash(pushes.map((push) => `${push.leadId}@${push.queuedAt.getTime()}`).join(','))}`;
    // A batch read twice was not taken off (its item did not commit): the attempt ends here.
    if (key === previousKey) return;
    previousKey = key;
    yield { kind: 'push', key, pushes };
    if (state.stopped || state.pausedUntil) return;
  }
}

async function* exportBatches(context: JobRunContext<CrmSyncRun, SyncState>): AsyncGenerator<SyncItem> {
  const { state, em } = context;
  const connection = state.connection!;
  const batchSize = state.adapter!.maximumBatchSize;
  const table = tables(em);
  let cursorAt = connection.exportCursorAt ?? new Date(0);
  let cursorLeadId = connection.exportCursorLeadId ?? '00000000-0000-0000-0000-000000000000';
  for (;;) {
    // Leads changed here since the cursor and since their last sync with this connection: a lead
    // whose link was written at (or after) its last change — one this run imported — is skipped
    // without being read.
    const rows = await em.execute<Array<{ id: string }>>(
      `select lead.id from ${table.lead} lead
        where lead.tenant_id = ? and (lead.updated_at, lead.id) > (?, ?)
          and not exists (select 1 from ${table.link} link where link.lead_id = lead.id and link.connection_id = ? and link.last_synced_at >= lead.updated_at)
        order by lead.updated_at, lead.id limit ?`,
      [connection.tenantId, cursorAt, cursorLeadId, connection.id, batchSize],
    );
    if (rows.length === 0) return;
    // A fresh fork per batch keeps a long export from filling one identity map.
    const leads = await em.fork().find(Lead, { id: { $in: rows.map((row) => row.id) } }, { orderBy: { updatedAt: 'asc', id: 'asc' }, populate: ['company'] });
    const last = leads.at(-1);
    if (!last) return;
    yield { kind: 'export', key: `export:${cursorAt.toISOString()}:${cursorLeadId}`, leads, cursorAt: last.updatedAt, cursorLeadId: last.id };
    if (rows.length < batchSize || state.stopped || state.pausedUntil) return;
    cursorAt = last.updatedAt;
    cursorLeadId = last.id;
  }
}

/** Provider changes for what webhooks announced: each record read now, so the newest state is applied. */
async function changesOfEvents(events: StoredWebhookEvent[], adapter: CrmAdapter, engine: CrmSyncEngine, signal: AbortSignal): Promise<CrmChange[]> {
  const changes: CrmChange[] = [];
  const read = new Set<string>();
  for (const event of events) {
    if (event.kind === 'delete') {
      changes.push({ kind: 'delete', externalId: event.externalId, deletedAt: new Date(event.occurredAt), mergedInto: null });
      continue;
    }
    if (read.has(event.externalId)) continue;
    read.add(event.externalId);
    const record = await adapter.get(event.externalId, engine.providerFields, signal);
    if (!record) changes.push({ kind: 'delete', externalId: event.externalId, deletedAt: new Date(event.occurredAt), mergedInto: null });
    else changes.push({ kind: 'upsert', record: { ...record, mergedExternalIds: [...new Set([...record.mergedExternalIds, ...event.mergedExternalIds])] } });
  }
  return changes;
}

/**
 * A CRM sync run as a job: pages of provider changes since the stored cursor (less the overlap),
 * then batches of leads changed here since the last push — or, for a run a webhook started, its
 * events, or for a replay, the open dead letters. Each item's writes, counts and cursors commit
 * together; a retried or resumed run continues from the stored cursors. One run per connection at
 * a time.
 */
export function createCrmSyncKind(settings: CrmSyncKindSettings) {
  return defineJobKind<SyncItem, CrmSyncRun, SyncState>({
    kind: crmSyncJobKind,
    entity: CrmSyncRun,
    queueOf: (run) => `crm-sync:${run.connectionId}`,
    maxAttempts: 5,

    async startAttempt({ job, em, logger, signal }) {
      const state: SyncState = { connection: null, adapter: null, engine: null, stopped: null, pausedUntil: null, pauseReason: null };
      const connection = await em.findOne(CrmConnection, { id: job.connectionId });
      if (!connection || connection.status === CrmConnectionStatus.DISCONNECTED) {
        state.stopped = 'The connection was disconnected; nothing was synced.';
        return state;
      }
      state.connection = connection;
      state.adapter = settings.connections.openAdapter(connection);
      state.engine = new CrmSyncEngine({ connection, adapter: state.adapter, em, logger, signal });
      await state.engine.prepare();
      return state;
    },

    async *items(context) {
      const { job, state, em } = context;
      if (state.stopped) return;
      if (job.webhookEvents) {
        for (let index = 0; index < job.webhookEvents.length; index += 100) yield { kind: 'events', key: `events:${index}`, events: job.webhookEvents.slice(index, index + 100) };
        return;
      }
      if (job.trigger === 'lead-change') {
        yield* pushBatches(context);
        return;
      }
      if (job.trigger === 'replay') {
        for (;;) {
          // Letters this run wrote itself (a replay that failed again) are not replayed twice.
          const letters = await em.fork().find(CrmDeadLetter, { connectionId: job.connectionId, resolvedAt: null, createdAt: { $lt: job.createdAt } }, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: 100 });
          const fresh = letters.filter((letter) => letter.syncRunId !== job.id);
          if (fresh.length === 0) return;
          yield { kind: 'replay', key: `replay:${shortHash(fresh.map((letter) => letter.id).join(','))}`, letters: fresh };
          if (state.stopped || state.pausedUntil) return;
        }
      }
      if ((job.direction === SyncDirection.IMPORT || job.direction === SyncDirection.BOTH) && !job.importDone) yield* importPages(context, settings);
      if (state.stopped || state.pausedUntil) return;
      if (job.direction === SyncDirection.EXPORT || job.direction === SyncDirection.BOTH) yield* exportBatches(context);
    },

    itemKey: (item) => item.key,

    async processItem(item, context) {
      const { state, job } = context;
      const engine = state.engine!;
      let plan: SyncPlan;
      try {
        if (item.kind === 'import') plan = await engine.planImport(item.page.changes);
        else if (item.kind === 'export') plan = await engine.planExport(item.leads);
        else if (item.kind === 'events') plan = await engine.planImport(await changesOfEvents(item.events, state.adapter!, engine, context.signal));
        else if (item.kind === 'push') plan = await planPush(item.pushes, engine, context);
        else plan = await replay(item.letters, engine, state.adapter!, context);
      } catch (error) {
        if (!stopFor(error, state)) throw error;
        return { outcome: 'failed', message: state.stopped ?? `Paused: ${state.pauseReason}.` };
      }
      return {
        outcome: 'completed',
        save: async (transaction) => {
          await writePlan(transaction, plan, state.connection!, job.id);
          const table = tables(transaction);
          await addCounts(transaction, table.run, job.id, plan.counts);
          if (item.kind === 'import') {
            if (item.page.checkpoint) {
              await transaction.execute(`update ${table.connection} set import_cursor = greatest(coalesce(import_cursor, ?::timestamptz), ?::timestamptz), updated_at = now() where id = ?`, [item.page.checkpoint, item.page.checkpoint, job.connectionId]);
              await transaction.execute(`update ${table.run} set import_resume_from = ? where id = ?`, [item.page.checkpoint, job.id]);
            }
            if (item.last) await transaction.execute(`update ${table.run} set import_done = true where id = ?`, [job.id]);
          }
          if (item.kind === 'push') await removePendingPushes(transaction, job.connectionId, item.pushes);
          if (item.kind === 'export') {
            await transaction.execute(`update ${table.connection} set export_cursor_at = ?, export_cursor_lead_id = ?, updated_at = now() where id = ?`, [item.cursorAt, item.cursorLeadId, job.connectionId]);
          }
          // Pages are found as the run goes: the total grows ahead of the items done, from what the provider says is left.
          const remaining = item.kind === 'import' && item.page.totalEstimate !== null ? Math.ceil(item.page.totalEstimate / settings.pageSize) : 1;
          const rows = await transaction.execute<Array<{ total: number }>>(`update ${table.job} set total = greatest(total, completed + failed + 1 + ?) where id = ? returning total`, [item.kind === 'import' && !item.last ? remaining : 0, job.id]);
          if (rows[0]) job.total = rows[0].total;
        },
        message: describe(plan.counts, item),
      };
    },

    async conclude(context) {
      const { job, state, em } = context;
      const table = tables(em);
      await em.execute(`update ${table.job} set total = completed + failed where id = ?`, [job.id]);
      job.total = job.completed + job.failed;
      const run = await em.fork().findOneOrFail(CrmSyncRun, { id: job.id });
      const summary = `Created ${run.createdRecords}, updated ${run.updatedRecords}, unchanged ${run.unchangedRecords}, failed ${run.failedRecords}, conflicts ${run.conflicts}, deleted ${run.deletedRecords}, merged ${run.mergedRecords}.`;
      if (!state.connection) return { status: JobStatus.SUCCEEDED, message: state.stopped };
      if (state.stopped) {
        await em.nativeUpdate(CrmConnection, { id: job.connectionId }, { status: CrmConnectionStatus.ERROR, statusMessage: state.stopped, updatedAt: new Date() });
        return { status: JobStatus.FAILED, message: `${state.stopped} ${summary}` };
      }
      if (state.pausedUntil) {
        const pausedUntil = state.pausedUntil;
        const message = `Paused until ${pausedUntil.toISOString()}: ${state.pauseReason}; the sync resumes then from its cursor.`;
        await em.nativeUpdate(CrmConnection, { id: job.connectionId }, { status: CrmConnectionStatus.PAUSED, pausedUntil, statusMessage: message, updatedAt: new Date() });
        await em.execute(`update ${table.run} set paused_until = ? where id = ?`, [pausedUntil, job.id]);
        await settings.queue().submit(
          em.fork(),
          async (transaction) => {
            const resumed = transaction.create(CrmSyncRun, { tenantId: job.tenantId, connectionId: job.connectionId, direction: job.direction, full: job.full, trigger: job.trigger === 'lead-change' ? 'lead-change' : 'resume', total: 1 });
            resumed.subjectType = 'CrmConnection';
            resumed.subjectId = job.connectionId;
            resumed.importResumeFrom = job.importDone ? null : run.importResumeFrom;
            transaction.persist(resumed);
            return resumed;
          },
          { runAt: pausedUntil },
        );
        return { status: JobStatus.SUCCEEDED, message: `${message} ${summary}` };
      }
      await em.nativeUpdate(CrmConnection, { id: job.connectionId }, { status: CrmConnectionStatus.ACTIVE, statusMessage: null, pausedUntil: null, lastSyncedAt: new Date(), updatedAt: new Date() });
      return { status: JobStatus.SUCCEEDED, message: summary };
    },
  });
}

async function addCounts(transaction: EntityManager, runTable: string, runId: string, counts: SyncCounts): Promise<void> {
  if (Object.values(counts).every((count) => count === 0)) return;
  await transaction.execute(
    `update ${runTable} set created_records = created_records + ?, updated_records = updated_records + ?, unchanged_records = unchanged_records + ?, failed_records = failed_records + ?, conflicts = conflicts + ?, deleted_records = deleted_records + ?, merged_records = merged_records + ? where id = ?`,
    [counts.created, counts.updated, counts.unchanged, counts.failed, counts.conflicts, counts.deleted, counts.merged, runId],
  );
}

function describe(counts: SyncCounts, item: SyncItem): string {
  const what = item.kind === 'import' ? 'Imported a page' : item.kind === 'export' || item.kind === 'push' ? 'Pushed a batch' : item.kind === 'events' ? 'Applied webhook events' : 'Replayed dead letters';
  return `${what}: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.failed} failed.`;
}

/** Dead letters tried again: import ones read from the provider anew, export ones pushed again. */
async function replay(letters: CrmDeadLetter[], engine: CrmSyncEngine, adapter: CrmAdapter, context: JobRunContext<CrmSyncRun, SyncState>): Promise<SyncPlan> {
  const importIds = letters.filter((letter) => letter.direction === CrmSyncSide.IMPORT && letter.externalId).map((letter) => letter.externalId!);
  const exportLeadIds = letters.filter((letter) => letter.direction === CrmSyncSide.EXPORT && letter.leadId).map((letter) => letter.leadId!);
  const remoteDeletes = letters.filter((letter) => letter.direction === CrmSyncSide.EXPORT && !letter.leadId && letter.externalId).map((letter) => letter.externalId!);
  const changes = await changesOfEvents(
    importIds.map((externalId) => ({ eventId: externalId, kind: 'upsert', externalId, occurredAt: new Date().toISOString(), mergedExternalIds: [] })),
    adapter,
    engine,
    context.signal,
  );
  const plan = await engine.planImport(changes);
  if (exportLeadIds.length > 0) {
    const leads = await context.em.fork().find(Lead, { id: { $in: exportLeadIds } }, { populate: ['company'] });
    const pushed = await engine.planExport(leads);
    mergePlans(plan, pushed);
  }
  if (remoteDeletes.length > 0) mergePlans(plan, await engine.planRemoteDeletes(remoteDeletes));
  return plan;
}

/** Leads queued by their events: the changed ones through the export's merge, the deleted ones deleted there. */
async function planPush(pushes: PendingPush[], engine: CrmSyncEngine, context: JobRunContext<CrmSyncRun, SyncState>): Promise<SyncPlan> {
  const leadIds = pushes.filter((entry) => !entry.deleteExternalId).map((entry) => entry.leadId);
  // A lead deleted without a record at this CRM has nothing to push: its row just goes.
  const leads = leadIds.length === 0 ? [] : await context.em.fork().find(Lead, { id: { $in: leadIds } }, { orderBy: { updatedAt: 'asc', id: 'asc' }, populate: ['company'] });
  const plan = await engine.planExport(leads);
  const deletes = pushes.map((entry) => entry.deleteExternalId).filter((externalId): externalId is string => Boolean(externalId));
  if (deletes.length > 0) mergePlans(plan, await engine.planRemoteDeletes(deletes));
  return plan;
}

function mergePlans(into: SyncPlan, from: SyncPlan): void {
  for (const [key, value] of Object.entries(from.counts)) into.counts[key as keyof SyncCounts] += value;
  into.leadCreates.push(...from.leadCreates);
  into.leadUpdates.push(...from.leadUpdates);
  into.leadMerges.push(...from.leadMerges);
  into.leadDeletes.push(...from.leadDeletes);
  into.linkDeletes.push(...from.linkDeletes);
  for (const [key, link] of from.links) into.links.set(key, link);
  into.deadLetters.push(...from.deadLetters);
  into.succeededExternalIds.push(...from.succeededExternalIds);
  into.succeededLeadIds.push(...from.succeededLeadIds);
  into.succeededDeletes.push(...from.succeededDeletes);
}

