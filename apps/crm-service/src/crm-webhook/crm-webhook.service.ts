import { createHash } from 'node:crypto';
import type { Database, Logger, Redis } from '@gtm/runtime';
import { CrmConnection, CrmConnectionStatus } from '../crm-connection/crm-connection.entity.js';
import type { CrmConnectionService } from '../crm-connection/crm-connection.service.js';
import type { InboundWebhook } from '../crm-provider/crm-provider.js';
import { SyncDirection } from '../crm-sync/crm-sync-run.entity.js';
import type { CrmSyncService } from '../crm-sync/crm-sync.service.js';
import { CrmWebhookEventRecord } from './crm-webhook-event.entity.js';

export type WebhookOutcome = { status: 202; accepted: number; duplicates: number; runId: string | null } | { status: 401; reason: string };

export interface CrmWebhookServiceSettings {
  database: Database;
  redis: Redis;
  logger: Logger;
  connections: CrmConnectionService;
  sync: () => CrmSyncService;
  /** The gateway's public origin: the URL providers called, which some of them sign. */
  publicUrl: string;
  now?: () => Date;
}

/**
 * Takes a provider's webhook: checks it the way that provider signs them, refuses a replayed
 * delivery, keeps each event id once, and hands the work to a sync run (a job) so the provider is
 * answered at once. Nothing is changed for a request that fails any check.
 */
export class CrmWebhookService {
  constructor(private readonly settings: CrmWebhookServiceSettings) {}

  async receive(connectionId: string, request: Omit<InboundWebhook, 'url'> & { pathAndQuery: string }): Promise<WebhookOutcome> {
    const { database, redis, logger } = this.settings;
    const refuse = (reason: string, detail: Record<string, unknown> = {}): WebhookOutcome => {
      logger.warn({ connectionId, reason, ...detail }, 'refused a CRM webhook');
      return { status: 401, reason };
    };
    // The connection is looked up before any tenant is known: its id is all the provider sends.
    const connection = /^[0-9a-f-]{36}$/i.test(connectionId) ? await database.orm.em.fork().findOne(CrmConnection, { id: connectionId }, { filters: false }) : null;
    if (!connection || connection.status === CrmConnectionStatus.DISCONNECTED) return refuse('no such connection');
    const adapter = this.settings.connections.openAdapter(connection);
    const url = `${this.settings.publicUrl}${request.pathAndQuery}`;
    const verification = adapter.verifyWebhook({ method: request.method, url, headers: request.headers, rawBody: request.rawBody }, this.settings.now?.() ?? new Date());
    if (!verification.verified) return refuse('the webhook could not be verified', { why: verification.reason, provider: connection.provider });

    // A valid signature seen before is a replay (a provider's own retry signs again).
    const replayKey = `crm-webhook-replay:${connection.id}:${createHash('sha256').update(verification.replayKey).digest('base64url')}`;
    const fresh = await redis.set(replayKey, '1', 'PX', verification.replayWindowMs + 60_000, 'NX');
    if (fresh !== 'OK') return refuse('the webhook was already delivered (replay)', { provider: connection.provider });

    if (verification.events.length === 0) return { status: 202, accepted: 0, duplicates: 0, runId: null };
    const em = database.forkForTenant(connection.tenantId);
    let accepted: typeof verification.events = [];
    const run = await this.settings
      .sync()
      .submit(em, connection, {
        direction: SyncDirection.IMPORT,
        full: false,
        trigger: 'webhook',
        events: async (transaction) => {
          const unique = [...new Map(verification.events.map((event) => [event.eventId, event])).values()];
          const rows = (await transaction
            .createQueryBuilder(CrmWebhookEventRecord)
            .insert(unique.map((event) => ({ connectionId: connection.id, eventId: event.eventId, tenantId: connection.tenantId, receivedAt: new Date() })))
            .onConflict(['connectionId', 'eventId'])
            .ignore()
            .returning(['eventId'])
            .execute('all')) as unknown as Array<{ eventId?: string; event_id?: string }>;
          const taken = new Set(rows.map((row) => row.eventId ?? row.event_id));
          accepted = unique.filter((event) => taken.has(event.eventId));
          // Every event was taken before (a provider delivering again): nothing to run.
          if (accepted.length === 0) throw new NothingNew();
          return accepted;
        },
      })
      .catch((error: unknown) => {
        if (error instanceof NothingNew) return null;
        throw error;
      });
    return { status: 202, accepted: accepted.length, duplicates: verification.events.length - accepted.length, runId: run?.id ?? null };
  }
}

/** Every event of the delivery was taken before: no run is submitted. */
class NothingNew extends Error {}
