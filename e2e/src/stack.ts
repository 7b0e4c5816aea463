import { createApp as createCampaignApp } from '@gtm/campaign-service/app';
import { loadConfig as loadCampaignConfig } from '@gtm/campaign-service/config';
import { createApp as createContentApp } from '@gtm/content-service/app';
import { loadConfig as loadContentConfig } from '@gtm/content-service/config';
import { createApp as createConversationApp } from '@gtm/conversation-service/app';
import { loadConfig as loadConversationConfig } from '@gtm/conversation-service/config';
import { createApp as createCrmApp } from '@gtm/crm-service/app';
import { loadConfig as loadCrmConfig } from '@gtm/crm-service/config';
import { createApp as createEnrichmentApp } from '@gtm/enrichment-service/app';
import { loadConfig as loadEnrichmentConfig } from '@gtm/enrichment-service/config';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createApp as createGatewayApp } from '@gtm/gateway/app';
import { loadConfig as loadGatewayConfig } from '@gtm/gateway/config';
import { createLogger, type HostResolver, type Logger } from '@gtm/runtime';
import { createSubgraphTestSetup, postGraphQL, uniqueRedisPrefix, type GraphQLResponse, type SubgraphTestSetup } from '@gtm/testing';

export type SubgraphName = 'campaign' | 'content' | 'enrichment' | 'crm' | 'conversation';

interface RunningApp {
  url: string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Gateway environment variables on top of the stack's own (limits, CORS …). */
  gatewayEnvironment?: Record<string, string>;
  /** Where every app's log lines go, at debug level; default: nowhere. Tests read them. */
  logDestination?: NodeJS.WritableStream;
  /** Also written to the subgraphs' database URL (trust authentication ignores it), to prove it is never logged. */
  databasePassword?: string;
  /**
   * Environment variables for one subgraph on top of the stack's own, e.g. content's
   * `CONTENT_FETCH_ALLOWLIST` for a fixture site or campaign's LLM settings. Default: none.
   */
  subgraphEnvironment?: Partial<Record<SubgraphName, Record<string, string>>>;
  /** How content and enrichment resolve host names (local fixture sites under their own names). Default: DNS. */
  resolveHost?: HostResolver;
  /** The Redis of every app of the stack. Default: the machine's (TEST_REDIS_URL). */
  redisUrl?: string;
}

export interface Stack extends AsyncDisposable {
  gatewayUrl: string;
  /** A key of tenant `e2e` with every scope. */
  apiKey: string;
  /** Runs an operation through the gateway with `apiKey`, or with the given headers instead. */
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse>;
  gateway: Awaited<ReturnType<typeof createGatewayApp>>;
  /** The prefix of every Redis key and channel of the stack, the gateway's and the services' alike. */
  redisKeyPrefix: string;
  subgraphUrls: Record<SubgraphName, string>;
  setup: SubgraphTestSetup;
  /** Stops one subgraph, as a crash or deploy would, leaving the rest running. */
  stopSubgraph(name: SubgraphName): Promise<void>;
  close(): Promise<void>;
}

/**
 * Boots the five subgraphs and the gateway in this process on free ports, against one fresh
 * database (one schema per service) and the machine's Redis, as the stack tests' client sees them.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const setup = await createSubgraphTestSetup();
  // Its own keys, streams and channels: other test files run gateways and services against the same Redis.
  const redisKeyPrefix = uniqueRedisPrefix();
  const environment: Record<string, string> = { ...setup.environment, REDIS_KEY_PREFIX: redisKeyPrefix, ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}) };
  if (options.databasePassword) {
    const url = new URL(environment['DATABASE_URL']!);
    url.password = options.databasePassword;
    environment['DATABASE_URL'] = url.toString();
  }
  const logger = (service: string): Logger | undefined =>
    options.logDestination ? createLogger({ service, level: 'debug', destination: options.logDestination }) : undefined;
  // One allowlist for the whole deployment, as one environment file would give it: the hosts content
  // may fetch are the websites campaign accepts.
  const allowlist = options.subgraphEnvironment?.content?.['CONTENT_FETCH_ALLOWLIST'];
  const environmentOf = (name: SubgraphName) => ({ ...environment, ...(allowlist ? { CONTENT_FETCH_ALLOWLIST: allowlist } : {}), ...options.subgraphEnvironment?.[name] });
  // Content first: campaign generation calls its API, so campaign needs its URL.
  const content = await createContentApp(loadContentConfig(environmentOf('content')), { logger: logger('content'), resolveHost: options.resolveHost });
  const campaign = await createCampaignApp(loadCampaignConfig({ CONTENT_SERVICE_URL: content.url, ...environmentOf('campaign') }), { logger: logger('campaign') });
  const crm = await createCrmApp(loadCrmConfig(environmentOf('crm')), { logger: logger('crm') });
  // Enrichment reads lead lists from crm-service, and websites and campaigns from the other two.
  const enrichment = await createEnrichmentApp(
    loadEnrichmentConfig({ CONTENT_SERVICE_URL: content.url, CAMPAIGN_SERVICE_URL: campaign.url, CRM_SERVICE_URL: crm.url, ...environmentOf('enrichment') }),
    { logger: logger('enrichment'), resolveHost: options.resolveHost },
  );
  // Conversations read leads, campaigns and ice-breakers from those three, with the caller's token.
  const conversationUrls = { CRM_SERVICE_URL: crm.url, CAMPAIGN_SERVICE_URL: campaign.url, ENRICHMENT_SERVICE_URL: enrichment.url };
  const subgraphs: Record<SubgraphName, RunningApp> = {
    campaign,
    content,
    enrichment,
    crm,
    conversation: await createConversationApp(loadConversationConfig({ ...conversationUrls, ...environmentOf('conversation') }), { logger: logger('conversation') }),
  };
  // The key exists before the gateway starts, so GraphiQL can offer it, as `npm start` does.
  const registry = await openApiKeyRegistry({ databaseUrl: environment['DATABASE_URL']!, logger: createLogger({ service: 'e2e', level: 'silent' }), poolMax: 1 });
  const { key: apiKey } = await registry.apiKeys.createKey({ tenant: 'e2e', tier: 'enterprise', scopes: ['read', 'write', 'admin'] });
  await registry.close();
  const gateway = await createGatewayApp(
    loadGatewayConfig({
      NODE_ENV: 'test',
      GATEWAY_PORT: '0',
      DATABASE_URL: environment['DATABASE_URL'],
      REDIS_URL: environment['REDIS_URL'],
      LOG_LEVEL: 'silent',
      CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
      SECRETS_KEY: setup.environment['SECRETS_KEY'],
      CAMPAIGN_SERVICE_URL: subgraphs.campaign.url,
      CONTENT_SERVICE_URL: subgraphs.content.url,
      ENRICHMENT_SERVICE_URL: subgraphs.enrichment.url,
      CRM_SERVICE_URL: subgraphs.crm.url,
      CONVERSATION_SERVICE_URL: subgraphs.conversation.url,
      // Generous: a first generation (crawl, five assets) on a loaded two-core machine takes seconds;
      // a stopped subgraph is refused at once, whatever this says.
      SUBGRAPH_TIMEOUT_MS: '30000',
      GRAPHIQL_DEFAULT_API_KEY: apiKey,
      REDIS_KEY_PREFIX: redisKeyPrefix,
      ...options.gatewayEnvironment,
    }),
    { logger: logger('gateway') },
  );
  const stopped = new Set<SubgraphName>();
  const close = async () => {
    await gateway.close();
    await Promise.all(
      (Object.entries(subgraphs) as [SubgraphName, RunningApp][]).filter(([name]) => !stopped.has(name)).map(([, app]) => app.close()),
    );
    await setup.dispose();
  };
  return {
    gatewayUrl: gateway.url,
    apiKey,
    gateway,
    redisKeyPrefix,
    gql: (query, variables, headers = { authorization: `Bearer ${apiKey}` }) => postGraphQL(gateway.url, { query, variables }, headers),
    subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([name, app]) => [name, app.url])) as Record<SubgraphName, string>,
    setup,
    async stopSubgraph(name) {
      stopped.add(name);
      await subgraphs[name].close();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
