import { attachEventConsumer, attachEventRelay } from '@gtm/events';
import { createRelayTokenVerifier } from '@gtm/caller';
import { attachJobWorker, createJobQueue, jobEntities, type JobQueue } from '@gtm/jobs';
import { startSubgraphApp, type Logger, type SubgraphApp } from '@gtm/runtime';
import { createSecretBox } from '@gtm/secrets';
import { Company } from './company/company.entity.js';
import { CompanyResolver } from './company/company.resolver.js';
import { CompanyService } from './company/company.service.js';
import type { CrmConfig } from './config.js';
import { CrmConnection } from './crm-connection/crm-connection.entity.js';
import { CrmConnectionResolver } from './crm-connection/crm-connection.resolver.js';
import { CrmConnectionService } from './crm-connection/crm-connection.service.js';
import { CrmDeadLetter } from './crm-dead-letter/crm-dead-letter.entity.js';
import { leadPushSubscriptions } from './crm-push/lead-push.subscription.js';
import { CrmRecordLink } from './crm-record-link/crm-record-link.entity.js';
import { CrmSyncRun } from './crm-sync/crm-sync-run.entity.js';
import { createCrmSyncKind } from './crm-sync/crm-sync.kind.js';
import { CrmSyncResolver, LeadCrmRecordsResolver } from './crm-sync/crm-sync.resolver.js';
import { CrmSyncService } from './crm-sync/crm-sync.service.js';
import { CrmWebhookEventRecord } from './crm-webhook/crm-webhook-event.entity.js';
import { createCrmWebhookRouter } from './crm-webhook/crm-webhook.route.js';
import { CrmWebhookService } from './crm-webhook/crm-webhook.service.js';
import { Lead } from './lead/lead.entity.js';
import { leadEnrichmentSubscription } from './lead/lead-enrichment.subscription.js';
import { leadOutcomeSubscription } from './lead/lead-outcome.subscription.js';
import { LeadResolver } from './lead/lead.resolver.js';
import { LeadService } from './lead/lead.service.js';
import { createFileRoutes, createFileTickets } from '@gtm/files';
import express from 'express';
import pg from 'pg';
import { LeadImport } from './lead-import/lead-import.entity.js';
import { createLeadImportKind } from './lead-import/lead-import.kind.js';
import { LeadImportResolver } from './lead-import/lead-import.resolver.js';
import { LeadImportService, leadImportSweepTask, leadImportUpload, sweepEndedImportStaging } from './lead-import/lead-import.service.js';
import { createLeadImportUpload } from './lead-import/lead-import.upload.js';
import { LeadList } from './lead-list/lead-list.entity.js';
import { LeadListResolver } from './lead-list/lead-list.resolver.js';
import { createLeadListExport, leadListDownload, LeadListService } from './lead-list/lead-list.service.js';
import { createCrmLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildCrmSchema } from './schema.js';

export interface CrmAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
}

/**
 * The composition root of the CRM service: builds its services and resolvers, starts the subgraph,
 * then the relay that delivers the lead events it publishes (its outbox) to the services that
 * subscribe, the consumer of the conversation outcomes that move its leads, and (unless
 * JOB_WORKER_CONCURRENCY is 0) the worker that runs its sync jobs.
 */
export async function createApp(config: CrmConfig, overrides: CrmAppOverrides = {}): Promise<SubgraphApp> {
  const leadService = new LeadService();
  const companyService = new CompanyService();
  const connections = new CrmConnectionService({
    secrets: createSecretBox({ keys: config.SECRETS_KEY }),
    publicUrl: config.PUBLIC_URL,
    outbound: { allowlist: config.CRM_FETCH_ALLOWLIST },
    retry: { maxAttempts: config.CRM_PROVIDER_MAX_ATTEMPTS, baseDelayMs: config.CRM_PROVIDER_RETRY_BASE_MS },
  });
  let jobs: JobQueue | undefined;
  let sync: CrmSyncService | undefined;
  const syncKind = createCrmSyncKind({ connections, queue: () => jobs!, overlapMs: config.CRM_SYNC_OVERLAP_SECONDS * 1000, pageSize: config.CRM_SYNC_PAGE_SIZE });
  const tickets = createFileTickets({ secretsKey: config.SECRETS_KEY });
  const leadImports = new LeadImportService({ tickets, jobs: () => jobs!, maxBytes: config.LEAD_IMPORT_MAX_BYTES });
  const leadLists = new LeadListService(tickets);
  // The COPY of an upload runs on a raw pg connection of its own (MikroORM has no COPY).
  const copyPool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4, application_name: 'gtm-crm-lead-import' });
  const jobKinds = [syncKind, createLeadImportKind()];
  const resolvers = new Map<Function, object>([
    [LeadResolver, new LeadResolver(leadService)],
    [CompanyResolver, new CompanyResolver(companyService)],
    [CrmConnectionResolver, new CrmConnectionResolver(connections)],
    [LeadImportResolver, new LeadImportResolver(leadImports, leadLists)],
    [LeadListResolver, new LeadListResolver(leadLists)],
  ]);
  const app = await startSubgraphApp({
    name: 'crm-service',
    config,
    entities: [Lead, Company, ...jobEntities, CrmConnection, CrmRecordLink, CrmDeadLetter, CrmSyncRun, CrmWebhookEventRecord, LeadImport, LeadList],
    migrations,
    buildSchema: async ({ redis, logger }) => {
      jobs = createJobQueue({ databaseUrl: config.DATABASE_URL, redis, logger, kinds: jobKinds });
      await jobs.migrate();
      sync = new CrmSyncService(jobs);
      resolvers.set(CrmSyncResolver, new CrmSyncResolver(sync));
      resolvers.set(LeadCrmRecordsResolver, new LeadCrmRecordsResolver(sync));
      return buildCrmSchema({ get: (resolverClass) => resolvers.get(resolverClass) });
    },
    createLoaders: createCrmLoaders,
    routes: async ({ database, redis, logger, verifier }) =>
      express.Router().use(
        createCrmWebhookRouter({
          webhooks: new CrmWebhookService({ database, redis, logger, connections, sync: () => sync!, publicUrl: config.PUBLIC_URL }),
          relay: await createRelayTokenVerifier({ publicKeyPem: config.CALLER_TOKEN_PUBLIC_KEY }),
          logger,
        }),
        createFileRoutes({
          service: leadImportUpload.service,
          tickets,
          verifier,
          logger,
          uploads: { [leadImportUpload.purpose]: createLeadImportUpload({ pool: copyPool, schema: database.orm.config.get('schema')!, jobs: () => jobs! }) },
          downloads: { [leadListDownload.purpose]: createLeadListExport(database) },
        }),
      ),
    ...overrides,
  });
  // An idle COPY connection the database ends (a restart, a dropped database) leaves the pool and is
  // replaced when next needed; its error reaches no query, and unheard it would end the process.
  copyPool.on('error', (error) => app.logger.warn({ err: error }, 'an idle lead import connection failed; it is replaced when next needed'));
  const relayed = await attachEventRelay(app, { databaseUrl: config.DATABASE_URL });
  // What conversations come to moves their leads' status (conversation-service's lead outcomes).
  // Leads changed here are pushed to the tenant's connected CRMs (decision 0043).
  const pushing = config.CRM_PUSH_ON_LEAD_CHANGE ? leadPushSubscriptions({ queue: () => jobs!, delayMs: config.CRM_PUSH_DELAY_MS }) : [];
  const consuming = await attachEventConsumer(relayed, { databaseUrl: config.DATABASE_URL, subscriptions: [leadOutcomeSubscription, leadEnrichmentSubscription, ...pushing] });
  const working = await attachJobWorker(consuming, {
    databaseUrl: config.DATABASE_URL,
    kinds: jobKinds,
    concurrency: config.JOB_WORKER_CONCURRENCY,
    tasks: { [leadImportSweepTask]: async () => void (await sweepEndedImportStaging(consuming.database, consuming.logger)) },
    schedules: [{ task: leadImportSweepTask, pattern: '*/10 * * * *' }],
  });
  return {
    ...working,
    close: async () => {
      await working.close();
      await copyPool.end();
    },
  };
}
