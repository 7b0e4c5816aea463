import { attachEventRelay } from '@gtm/events';
import { attachJobWorker, createJobQueue, type AttachJobWorkerOptions, type JobWorker } from '@gtm/jobs';
import { createLlmFromConfig } from '@gtm/llm';
import { createSecretBox } from '@gtm/secrets';
import { createLlmUsageReporter, FetchAllowlist, GraphQLUpstream, startSubgraphApp, type Database, type HostLookup, type Logger, type SubgraphApp } from '@gtm/runtime';
import type { TaskList } from 'graphile-worker';
import { CampaignConversationsResolver } from './campaign/campaign.resolver.js';
import type { ConversationConfig } from './config.js';
import { ConversationEvents } from './conversation/conversation-events.js';
import { ConversationStateService } from './conversation/conversation-state.service.js';
import { Conversation } from './conversation/conversation.entity.js';
import { ConversationResolver } from './conversation/conversation.resolver.js';
import { ConversationService } from './conversation/conversation.service.js';
import { Enrollment } from './enrollment/enrollment.entity.js';
import { EnrollmentResolver } from './enrollment/enrollment.resolver.js';
import { EnrollmentService } from './enrollment/enrollment.service.js';
import { mountInboundWebhook } from './inbound/inbound-webhook.route.js';
import { InboundService, processInboundTask } from './inbound/inbound.service.js';
import { MailboxWatcher } from './inbound/mailbox-watcher.js';
import { LeadConversationsResolver } from './lead/lead.resolver.js';
import { createConversationLoaders } from './loaders.js';
import { MailConnector } from './mail/mail-connector.js';
import { Mailbox } from './mailbox/mailbox.entity.js';
import { mailboxReference } from './mailbox/mailbox.reference.js';
import { MailboxResolver } from './mailbox/mailbox.resolver.js';
import { MailboxService } from './mailbox/mailbox.service.js';
import { Message } from './message/message.entity.js';
import { messageReference } from './message/message.reference.js';
import { MessageResolver } from './message/message.resolver.js';
import { MessageService } from './message/message.service.js';
import { sendMessageTask } from './message/send-booking.js';
import { createSendMessageTask } from './message/send-message.task.js';
import { migrations } from './migrations/index.js';
import { createProcessInboundTasks, draftReplyTask, nurtureFollowUpTask } from './reply/process-inbound.task.js';
import { buildConversationSchema } from './schema.js';
import { Suppression } from './suppression/suppression.entity.js';
import { SuppressionService } from './suppression/suppression.service.js';
import { UnsubscribeTokens } from './unsubscribe/unsubscribe-token.js';
import { mountUnsubscribeRoutes } from './unsubscribe/unsubscribe.route.js';
import { UnsubscribeService } from './unsubscribe/unsubscribe.service.js';
import { CampaignClient } from './upstream/campaign.client.js';
import { CrmClient } from './upstream/crm.client.js';
import { EnrichmentClient } from './upstream/enrichment.client.js';

const noop = () => {};

export interface ConversationAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
  /** How mail server names resolve, for tests. Default: the system resolver. */
  mailHostLookup?: HostLookup;
  /** Worker timings, for tests. Default: libs/jobs' defaults. */
  jobWorker?: Pick<AttachJobWorkerOptions, 'pollIntervalMs' | 'shutdownAbortAfterMs'>;
}

export interface ConversationServices {
  mailboxes: MailboxService;
  enrollments: EnrollmentService;
  inbound: InboundService;
  tokens: UnsubscribeTokens;
  /** Reads the inboxes; null when MAILBOX_WATCHER_ENABLED is false. */
  watcher: MailboxWatcher | null;
}

export interface ConversationApp extends SubgraphApp {
  services: ConversationServices;
  /** Runs the send and reply tasks; null when JOB_WORKER_CONCURRENCY is 0. */
  worker: JobWorker | null;
}

/** The composition root of the conversation service: builds its services and resolvers, then starts it and its worker. */
export async function createApp(config: ConversationConfig, overrides: ConversationAppOverrides = {}): Promise<ConversationApp> {
  const { mailHostLookup, jobWorker, ...appOverrides } = overrides;
  const secrets = createSecretBox({ keys: config.SECRETS_KEY });
  const tokens = new UnsubscribeTokens(secrets.deriveKey('unsubscribe'));
  const mail = new MailConnector({ allowlist: new FetchAllowlist(config.MAIL_HOST_ALLOWLIST), timeoutMs: config.MAIL_CONNECT_TIMEOUT_MS, idleRenewMs: config.MAILBOX_POLL_INTERVAL_MS, lookup: mailHostLookup });
  const upstream = (service: string, url: string) => new GraphQLUpstream({ service, url, timeoutMs: config.UPSTREAM_TIMEOUT_MS });
  const crm = new CrmClient(upstream('crm-service', config.CRM_SERVICE_URL));
  const campaigns = new CampaignClient(upstream('campaign-service', config.CAMPAIGN_SERVICE_URL));
  const suppressions = new SuppressionService();
  const mailboxService = new MailboxService({ secrets, mail, publicUrl: config.PUBLIC_URL });

  let services: ConversationServices | undefined;
  let tasks: TaskList = {};
  let closeTasks: () => void = noop;
  // Made in buildSchema (they need the database and Redis), used by the routes mounted after it.
  let unsubscribe: UnsubscribeService | undefined;
  let inbound: InboundService | undefined;
  let serviceLogger: Logger | undefined;
  let watcher = null as MailboxWatcher | null;
  let serviceDatabase: Database | undefined;
  const app = await startSubgraphApp({
    name: 'conversation-service',
    config,
    entities: [Conversation, Mailbox, Message, Enrollment, Suppression],
    migrations,
    buildSchema: async ({ database, redis, logger }) => {
      const queue = createJobQueue({ databaseUrl: config.DATABASE_URL, redis, logger, kinds: [] });
      await queue.migrate();
      const events = new ConversationEvents(redis, logger);
      const states = new ConversationStateService(suppressions, logger);
      const enrichment = new EnrichmentClient(upstream('enrichment-service', config.ENRICHMENT_SERVICE_URL), logger);
      const enrollmentService = new EnrollmentService({ crm, campaigns, enrichment, suppressions });
      const conversationService = new ConversationService({ crm, states, events });
      const sender = createSendMessageTask({ database, mailboxes: mailboxService, mail, suppressions, states, tokens, events, publicUrl: config.PUBLIC_URL, logger });
      const usageReporter = createLlmUsageReporter({ redis, service: 'conversation-service', logger });
      const llm = createLlmFromConfig(config, { redis, logger, onUsage: (record) => (record.attribution ? usageReporter.report(record.attribution, record) : undefined) });
      const inboundTasks = createProcessInboundTasks({ database, llm, states, events, logger, autoSendMinConfidence: config.AUTO_SEND_MIN_CONFIDENCE });
      tasks = { [sendMessageTask]: sender.task, [processInboundTask]: inboundTasks.process, [draftReplyTask]: inboundTasks.draft, [nurtureFollowUpTask]: inboundTasks.nurture };
      closeTasks = () => sender.close();
      serviceLogger = logger;
      serviceDatabase = database;
      unsubscribe = new UnsubscribeService({ database, tokens, states, suppressions, events, logger });
      inbound = new InboundService({ database, events, logger });
      if (config.MAILBOX_WATCHER_ENABLED) {
        watcher = new MailboxWatcher({ database, redis, mailboxes: mailboxService, mail, inbound, maxBytes: config.INBOUND_MESSAGE_MAX_BYTES, intervalMs: config.MAILBOX_POLL_INTERVAL_MS, logger });
      }
      const messageService = new MessageService({ suppressions, events });
      services = { mailboxes: mailboxService, enrollments: enrollmentService, inbound, tokens, watcher };
      const resolvers = new Map<Function, object>([
        [ConversationResolver, new ConversationResolver(conversationService, mailboxService, enrollmentService)],
        [LeadConversationsResolver, new LeadConversationsResolver(conversationService)],
        [CampaignConversationsResolver, new CampaignConversationsResolver(conversationService)],
        [MailboxResolver, new MailboxResolver(mailboxService)],
        [EnrollmentResolver, new EnrollmentResolver(enrollmentService)],
        [MessageResolver, new MessageResolver(messageService)],
      ]);
      return buildConversationSchema({ get: (resolverClass) => resolvers.get(resolverClass) }, { ...mailboxReference(mailboxService), ...messageReference });
    },
    mountRoutes: (express, { authenticate }) => {
      mountUnsubscribeRoutes(express, authenticate, unsubscribe!, serviceLogger!);
      mountInboundWebhook(express, authenticate, { database: serviceDatabase!, mailboxes: mailboxService, inbound: inbound!, maxBytes: config.INBOUND_MESSAGE_MAX_BYTES, toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS, logger: serviceLogger! });
    },
    createLoaders: createConversationLoaders,
    ...appOverrides,
  });
  // Lead outcomes go to the services that subscribe (crm-service) from this service's outbox.
  const withRelay = await attachEventRelay(app, { databaseUrl: config.DATABASE_URL });
  const withWorker = await attachJobWorker(withRelay, { databaseUrl: config.DATABASE_URL, kinds: [], tasks, concurrency: config.JOB_WORKER_CONCURRENCY, ...jobWorker });
  watcher?.start();
  return {
    ...withWorker,
    services: services!,
    async close() {
      await watcher?.close();
      await withWorker.close();
      closeTasks();
    },
  };
}
