import { JobStatus, type JobQueue } from '@gtm/jobs';
import { badUserInput, notFound, type EntityManager, type SubgraphContext } from '@gtm/runtime';
import { CrmConnection, CrmConnectionStatus } from '../crm-connection/crm-connection.entity.js';
import type { CrmWebhookEvent } from '../crm-provider/crm-provider.js';
import { recordUrlOf } from '../crm-provider/record-url.js';
import { CrmDeadLetter } from '../crm-dead-letter/crm-dead-letter.entity.js';
import { CrmRecordLink } from '../crm-record-link/crm-record-link.entity.js';
import type { CrmLoaders } from '../loaders.js';
import { CrmSyncRun, SyncDirection, type CrmSyncTrigger } from './crm-sync-run.entity.js';
import type { CrmDeadLetterType, CrmRecordLinkType, CrmSyncRunType } from './crm-sync.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

const maximumListed = 100;

/** How a run shows in the API. */
export function runView(run: CrmSyncRun): CrmSyncRunType {
  return {
    id: run.id,
    status: run.status,
    direction: run.direction,
    full: run.full,
    trigger: run.trigger,
    created: run.createdRecords,
    updated: run.updatedRecords,
    unchanged: run.unchangedRecords,
    failed: run.failedRecords,
    conflicts: run.conflicts,
    deleted: run.deletedRecords,
    merged: run.mergedRecords,
    message: run.message,
    pausedUntil: run.pausedUntil,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
  };
}

/** Starts sync runs (jobs) and shows their results, dead letters and record links. */
export class CrmSyncService {
  constructor(private readonly jobs: JobQueue) {}

  /** A connection of the caller's tenant that can sync, or the error saying why not. */
  private async syncable(context: CrmContext, connectionId: string): Promise<CrmConnection> {
    const connection = await context.loaders.crmConnectionById.load(connectionId);
    if (!connection) throw notFound('CrmConnection', connectionId);
    if (connection.status === CrmConnectionStatus.DISCONNECTED) throw badUserInput(`CrmConnection ${connectionId} is disconnected; connect the CRM again.`, 'connectionId');
    if (connection.status === CrmConnectionStatus.ERROR) throw badUserInput(`CrmConnection ${connectionId} needs new credentials (${connection.statusMessage ?? 'the CRM refused them'}); connect again.`, 'connectionId');
    return connection;
  }

  async sync(context: CrmContext, connectionId: string, direction: SyncDirection, full: boolean): Promise<CrmSyncRunType> {
    const connection = await this.syncable(context, connectionId);
    return runView(await this.submit(context.em, connection, { direction, full, trigger: 'manual' }));
  }

  /** Replays the connection's open dead letters in a run; answers how many were queued. */
  async retryDeadLetters(context: CrmContext, connectionId: string): Promise<number> {
    const connection = await this.syncable(context, connectionId);
    const open = await context.em.count(CrmDeadLetter, { connectionId: connection.id, resolvedAt: null });
    if (open === 0) return 0;
    await this.submit(context.em, connection, { direction: SyncDirection.BOTH, full: false, trigger: 'replay' });
    return open;
  }

  /**
   * Submits a run. `events` (a webhook's) is called in the submitting transaction, so what it writes
   * (the events taken, for applying each once) commits with the run; it answers the events to apply.
   */
  async submit(em: EntityManager, connection: CrmConnection, options: { direction: SyncDirection; full: boolean; trigger: CrmSyncTrigger; events?: (transaction: EntityManager) => Promise<CrmWebhookEvent[]> }): Promise<CrmSyncRun> {
    return this.jobs.submit(em, async (transaction) => {
      const events = options.events ? await options.events(transaction) : null;
      const run = transaction.create(CrmSyncRun, {
        tenantId: connection.tenantId,
        connectionId: connection.id,
        direction: options.direction,
        full: options.full,
        trigger: options.trigger,
        status: JobStatus.QUEUED,
        total: 1,
        webhookEvents: events ? events.map((event) => ({ ...event, occurredAt: event.occurredAt.toISOString() })) : null,
      });
      run.subjectType = 'CrmConnection';
      run.subjectId = connection.id;
      transaction.persist(run);
      return run;
    });
  }

  async runs(context: CrmContext, connection: CrmConnection, first: number | null | undefined): Promise<CrmSyncRunType[]> {
    const runs = await context.em.find(CrmSyncRun, { connectionId: connection.id }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: clamp(first) });
    return runs.map(runView);
  }

  async deadLetters(context: CrmContext, connection: CrmConnection, first: number | null | undefined): Promise<CrmDeadLetterType[]> {
    return context.em.find(CrmDeadLetter, { connectionId: connection.id, resolvedAt: null }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: clamp(first) });
  }

  /** A lead's records at connected CRMs. */
  async recordLinks(context: CrmContext, leadId: string): Promise<CrmRecordLinkType[]> {
    const links = await context.em.find(CrmRecordLink, { leadId }, { orderBy: { createdAt: 'asc' } });
    const connections = await Promise.all(links.map((link) => context.loaders.crmConnectionById.load(link.connectionId)));
    return links.flatMap((link, index) => {
      const connection = connections[index];
      if (!connection) return [];
      return [{ provider: connection.provider, connectionId: connection.id, externalId: link.externalId, url: recordUrlOf(connection, link.externalId), lastSyncedAt: link.lastSyncedAt }];
    });
  }
}

function clamp(first: number | null | undefined): number {
  if (first === null || first === undefined) return 20;
  if (first < 0 || first > maximumListed) throw badUserInput(`first must be between 0 and ${maximumListed}.`, 'first');
  return first;
}
