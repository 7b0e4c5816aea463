import { createServer } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createCallerIdentityTokens, createCallerTokenSigner, createRelayTokenSigner, type CallerContext } from '@gtm/caller';
import { createFileTickets, createUploadLedger } from '@gtm/files';
import { createJobProgressFeed } from '@gtm/jobs';
import { apolloLoggerFrom, closeRedis, createAccessLog, createHttpErrorHandler, createLogger, createRedis, ErrorCode, internalServerError, listenForGraphQL, useErrorMasking, useStorableInput, type Logger } from '@gtm/runtime';
import cors from 'cors';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import { createApiKeyAuthenticator } from './api-key/api-key.authenticator.js';
import { gatewaySchema, openApiKeyRegistry } from './api-key/api-key.registry.js';
import type { ApiKeyService } from './api-key/api-key.service.js';
import { createAuthenticationMiddleware } from './api-key/authentication.middleware.js';
import { useScopeEnforcement } from './api-key/scope.plugin.js';
import { assignCaller, assignFixedCaller, assignRequestId, callerOf } from './caller/caller-resolver.js';
import { callerTokenReuseMsOf, gatewaySubgraphName, shutdownGraceMsOf, subgraphNames, type GatewayConfig, type SubgraphName } from './config.js';
import { contextWithLoggerOnFirstUse, type GatewayContext } from './context.js';
import { createFileTransferRoutes, transferBufferBytes } from './files/file-transfer.route.js';
import { publicUrlOf } from './files/public-url.js';
import { createGraphiqlRouter } from './graphiql/graphiql.route.js';
import { graphqlHttpHandler } from './graphql-http/graphql-http.handler.js';
import { createConversationEventFeed } from './conversation-events/conversation-event.feed.js';
import { ConversationEventResolver } from './conversation-events/conversation-event.resolver.js';
import { createHealthRouter } from './health/health.route.js';
import { createInboundMailRouter } from './inbound/inbound-mail.routes.js';
import { JobProgressResolver } from './job-progress/job-progress.resolver.js';
import { JobProgressService } from './job-progress/job-progress.service.js';
import { GatewayLocalDataSource } from './subgraphs/local-data-source.js';
import { createSubgraphAgent, SubgraphDataSource } from './subgraphs/subgraph-data-source.js';
import { useUnavailableSubgraphMessages } from './subgraphs/unavailable-subgraph-messages.plugin.js';
import { operationLimitsFrom } from './operation-limits/operation-limits.config.js';
import { useOperationResolution } from './operation-resolution/operation-resolution.plugin.js';
import { useOperationLimits } from './operation-limits/operation-limits.plugin.js';
import { requestLimits } from './operation-limits/request-limits.middleware.js';
import { llmBackedFieldsOf, useLlmBudget } from './rate-limit/llm-budget.plugin.js';
import { tierLimitsFrom } from './rate-limit/rate-limit.config.js';
import { admittedOf, createRateLimitAdmission, rateLimitDecisionOf, useRateLimitGate, type RateLimitGateOptions } from './rate-limit/rate-limit.admission.js';
import { createRateLimitCheck, createRateLimitMiddleware } from './rate-limit/rate-limit.middleware.js';
import { createRateLimiter } from './rate-limit/rate-limiter.js';
import { createGatewayMetrics } from './metrics/metrics.js';
import { buildGatewaySchema } from './schema.js';
import { loadSupergraph } from './supergraph/supergraph.js';
import { createLlmUsageIngestor } from './usage/llm-usage.ingestor.js';
import { createRequestMetering, meterOf, useRequestMetering } from './usage/request-metering.js';
import { createRequestUsageRecorder } from './usage/request-usage.recorder.js';
import { UsageRepository } from './usage/usage.repository.js';
import { UsageResolver } from './usage/usage.resolver.js';
import { UsageService } from './usage/usage.service.js';
import { createConnectionLimiter } from './websocket/connection-limiter.js';
import { startGraphQLWebSocketServer } from './websocket/graphql-websocket.js';
import { useSubscriptionsOverWebSocketOnly } from './websocket/subscription-over-http.plugin.js';
import { createCrmWebhookRelay } from './webhooks/crm-webhook.relay.js';

export interface GatewayApp {
  /** The public GraphQL endpoint. */
  url: string;
  services: { apiKeys: ApiKeyService; usage: UsageService };
  close(): Promise<void>;
}

export interface GatewayOverrides {
  logger?: Logger;
  /**
   * Benchmarks only (bench/gateway): skip API-key authentication and rate limiting and treat
   * every request as this caller, to measure what those two steps cost. No configuration or
   * environment variable reaches it; only code that builds the app in process can.
   */
  benchmarkWithoutEdgeSecurity?: CallerContext;
}

// Reads across all five subgraphs, so a first run shows what the federated graph joins together.
const defaultGraphiqlQuery = `# Welcome to GTM Graph. Press the run button (or Ctrl-Enter).
query Overview {
  campaigns(first: 5) { edges { node { id name website { domain analyzedAt } conversations { subject } } } }
  leads(first: 5) { edges { node { id email status company { name website { domain } } conversations { subject } } } }
  enrichmentJobs(first: 5) { edges { node { name status percent } } }
}
`;

const graphiqlHeadersWith = (apiKey: string) => JSON.stringify({ Authorization: `Bearer ${apiKey}` }, null, 2);

/** The composition root of the gateway. */
export async function createApp(config: GatewayConfig, overrides: GatewayOverrides = {}): Promise<GatewayApp> {
  const logger = overrides.logger ?? createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const signer = await createCallerTokenSigner({ privateKeyPem: config.CALLER_TOKEN_PRIVATE_KEY });
  // Requests of one caller identity share a token until shortly before it expires: no signing per
  // request, and their identical subgraph fetches can be merged (decision 0090).
  const identityTokens = createCallerIdentityTokens({ signer, reuseMs: callerTokenReuseMsOf(config) });
  const delegationSigner = await createCallerTokenSigner({ privateKeyPem: config.CALLER_TOKEN_PRIVATE_KEY, ttlSeconds: config.CALLER_DELEGATION_TTL_SECONDS, delegated: true });
  const agent = createSubgraphAgent();
  const { database, apiKeys } = await openApiKeyRegistry({ databaseUrl: config.DATABASE_URL, logger, poolMax: config.DATABASE_POOL_MAX });
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX || undefined });
  await redis.connect();
  const requestUsage = createRequestUsageRecorder({ database, logger });
  const llmUsage = createLlmUsageIngestor({ redis, database, logger });
  const usage = new UsageService(new UsageRepository(database, gatewaySchema), requestUsage, llmUsage);
  const feed = createJobProgressFeed({ redis, logger });
  const conversationEvents = createConversationEventFeed({ redis, logger });
  const resolvers = new Map<Function, unknown>([
    [UsageResolver, new UsageResolver(usage)],
    [JobProgressResolver, new JobProgressResolver(new JobProgressService(feed))],
    [ConversationEventResolver, new ConversationEventResolver()],
  ]);
  const gatewayLocalSchema = await buildGatewaySchema({ get: (resolverClass) => resolvers.get(resolverClass) });
  const rateLimiter = createRateLimiter({ redis, limits: tierLimitsFrom(config) });
  // One decision for HTTP and WebSocket, so both count against the same local windows when Redis is away.
  const rateLimitCheck = createRateLimitCheck({ limiter: rateLimiter, logger });
  // On /graphql the decision is made while the request is read, parsed and planned, and awaited
  // before execution or before any answer, whichever comes first: a lone request does not wait for
  // Redis before its own work, and a refused one still gets only the 429.
  const rateLimitAdmission = createRateLimitAdmission({ limiter: rateLimiter, check: rateLimitCheck, callerOf: (_request, response) => callerOf(response) });
  const rateLimitGate: RateLimitGateOptions<GatewayContext> = { decisionOf: (context) => context.rateLimitDecision, callerOf: (context) => context.caller };
  const operationLimits = operationLimitsFrom(config);
  const metrics = createGatewayMetrics({ scrapeToken: config.METRICS_TOKEN });
  const authenticator = createApiKeyAuthenticator({ database, logger, cacheTtlMs: config.API_KEY_CACHE_TTL_MS });

  const supergraphSdl = await loadSupergraph(config.SUPERGRAPH_PATH);
  const gateway = new ApolloGateway({
    supergraphSdl,
    // The supergraph names each subgraph; where it listens comes from this deployment's config.
    buildService: ({ name }) => {
      if (name === gatewaySubgraphName) return new GatewayLocalDataSource(gatewayLocalSchema);
      if (!(subgraphNames as readonly string[]).includes(name)) throw new Error(`the supergraph names an unknown subgraph "${name}"`);
      return new SubgraphDataSource({
        name,
        url: config.subgraphUrls[name as SubgraphName],
        agent,
        timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
        delegatesCaller: config.CALLER_DELEGATION_SUBGRAPHS.includes(name),
        mergesFetches: config.SUBGRAPH_FETCH_MERGING,
      });
    },
  });

  // Subscriptions are validated against the same API schema Apollo serves.
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: loaded }) => (apiSchema = loaded));

  // A shutdown lets the longest operation the gateway allows finish and be answered.
  const shutdownGraceMs = shutdownGraceMsOf(config);
  const app = express();
  app.disable('x-powered-by');
  // Sockets buffer up to 256 KiB each way (Node's default is 16 KiB): an upload streamed on to a
  // service then moves in large steps instead of waiting on every 64 KiB.
  const httpServer = createServer({ highWaterMark: transferBufferBytes }, app);
  // Node cuts a request that takes longer than 5 minutes to arrive; a 1 GiB upload may need longer.
  httpServer.requestTimeout = config.FILE_TRANSFER_TIMEOUT_MS;
  // Node's default of 5 s closes idle connections that clients and balancers still mean to reuse.
  // The headers timeout stays above it, so a request arriving on a connection just before its idle
  // timeout is not cut off by the headers timer instead.
  httpServer.keepAliveTimeout = config.GATEWAY_KEEP_ALIVE_TIMEOUT_MS;
  httpServer.headersTimeout = config.GATEWAY_KEEP_ALIVE_TIMEOUT_MS + 1_000;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: apolloLoggerFrom(logger),
    introspection: config.INTROSPECTION_ENABLED,
    includeStacktraceInErrorResponses: false,
    // runMain owns SIGINT/SIGTERM: it drains, closes pools and exits. Apollo's own handlers would
    // race it and re-raise the signal into a process that already handles it.
    stopOnTerminationSignals: false,
    plugins: [
      // First: every later plugin may rely on the operation being known.
      useOperationResolution<GatewayContext>({ loggerOf: (context) => context.logger }),
      // The gateway's own tables and every subgraph's: refused here before any subgraph is asked.
      useStorableInput<GatewayContext>(),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: shutdownGraceMs }),
      // GraphiQL is served from our own bundle; Apollo's landing page would load from a CDN.
      ApolloServerPluginLandingPageDisabled(),
      metrics.plugin<GatewayContext>({ refusedOf: async (context) => !(await admittedOf(rateLimitGate, context)) }),
      useScopeEnforcement(),
      useSubscriptionsOverWebSocketOnly<GatewayContext>(),
      useOperationLimits<GatewayContext>(operationLimits),
      useLlmBudget<GatewayContext>({ limiter: rateLimiter, llmBackedFields: llmBackedFieldsOf(supergraphSdl), callerOf: (context) => context.caller, logger, admittedOf: (context) => admittedOf(rateLimitGate, context) }),
      // After every check that may refuse the operation, before it runs: its last wait for the rate limit.
      useRateLimitGate<GatewayContext>(rateLimitGate),
      useErrorMasking<GatewayContext>({
        requestIdOf: (context) => context.requestId,
        loggerOf: (context) => context.logger,
        // A subgraph masks and logs its own unexpected errors under the same request id.
        loggedElsewhere: (error) => error.extensions['code'] === ErrorCode.Internal && typeof error.extensions['serviceName'] === 'string' && error.extensions['serviceName'] !== gatewaySubgraphName,
      }),
      useUnavailableSubgraphMessages<GatewayContext>(),
      // After masking, so the outcome recorded is the code the client saw.
      useRequestMetering<GatewayContext>(),
    ],
  });
  await apollo.start();

  // Who is calling (API key → caller) and whether they may (rate limits). After authentication
  // (the limits need the tier). File transfers wait for the decision before streaming; /graphql
  // only starts it here (`rateLimitAdmission`).
  const { authentication, rateLimit, graphqlRateLimit } = overrides.benchmarkWithoutEdgeSecurity
    ? { authentication: [assignFixedCaller(overrides.benchmarkWithoutEdgeSecurity)], rateLimit: [], graphqlRateLimit: [] }
    : {
        authentication: [createAuthenticationMiddleware({ authenticator, logger }), assignCaller],
        rateLimit: [createRateLimitMiddleware({ limiter: rateLimiter, check: rateLimitCheck, callerOf: (_request, response) => callerOf(response) })],
        graphqlRateLimit: [rateLimitAdmission.start],
      };

  // First on /graphql: a browser's preflight carries no key and must be answered before
  // authentication, and before GraphiQL's GET route, for which Express would answer OPTIONS itself.
  app.use(
    '/graphql',
    cors({
      origin: config.CORS_ORIGINS,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy', 'Retry-After'],
      maxAge: 600,
    }),
  );
  if (config.GRAPHIQL_ENABLED) {
    // Mounted before the GraphQL handler: it answers GET /graphql only for browsers asking for HTML.
    app.use(
      createGraphiqlRouter({
        assetsDirectory: config.GRAPHIQL_ASSETS_PATH,
        config: {
          title: 'GTM Graph',
          defaultHeaders: graphiqlHeadersWith('<your API key>'),
          defaultQuery: defaultGraphiqlQuery,
        },
        // The development key is a credential: only a browser on this machine gets it.
        loopbackDefaultHeaders: config.GRAPHIQL_DEFAULT_API_KEY ? graphiqlHeadersWith(config.GRAPHIQL_DEFAULT_API_KEY) : undefined,
      }),
    );
  }
  app.use(
    '/graphql',
    metrics.countRequests,
    assignRequestId,
    createAccessLog(logger),
    createRequestMetering({ recorder: requestUsage, callerOf }),
    ...authentication,
    ...graphqlRateLimit,
    ...requestLimits({ ...operationLimits, answeredFirst: rateLimitAdmission.admit }),
    graphqlHttpHandler(apollo, {
      beforeAnswer: async (_request, response) => {
        if (await rateLimitAdmission.admit(response)) return true;
        // Recorded as a refusal before GraphQL ran, which is what the caller was told.
        Object.assign(meterOf(response), { operationName: null, operationType: null, outcome: null });
        return false;
      },
      context: async ({ req, res }) => {
        // Authentication ran first, so every request that reaches GraphQL has a caller.
        const caller = callerOf(res)!;
        let requestLogger: Logger | undefined;
        const requestLoggerOf = () => (requestLogger ??= logger.child({ requestId: caller.requestId, tenant: caller.tenantSlug }));
        let delegated: Promise<string> | undefined;
        try {
          return contextWithLoggerOnFirstUse(
            {
              caller,
              publicUrl: publicUrlOf(req, config.PUBLIC_URL),
              callerToken: await identityTokens.tokenFor(caller),
              delegatedCallerToken: () => (delegated ??= delegationSigner.sign(caller)),
              requestId: caller.requestId,
              deadline: performance.now() + config.OPERATION_TIMEOUT_MS,
              meter: meterOf(res),
              rateLimitDecision: rateLimitDecisionOf(res),
            },
            requestLoggerOf,
          );
        } catch (error) {
          // Apollo would answer with the error's own message; this is logged here and masked.
          requestLoggerOf().error({ err: error }, 'could not build the request context');
          throw internalServerError(caller.requestId);
        }
      },
    }),
  );
  // An unexpected failure on /graphql is not answered before the rate limit: a refused caller gets its 429.
  app.use('/graphql', (error: unknown, _request: express.Request, response: express.Response, next: express.NextFunction) => {
    rateLimitAdmission.admit(response).then((admitted) => (admitted ? next(error) : undefined), () => next(error));
  });
  // Every other route after /graphql, which nearly every request takes: Express tries each mounted
  // router in turn, so a /graphql request does not walk these (none of their paths is under /graphql).
  app.use(metrics.router());
  // Not behind /graphql's authentication: a CRM's webhook carries no API key, only its own signature.
  app.use(createCrmWebhookRelay({ crmServiceUrl: config.subgraphUrls.crm, agent, signer: await createRelayTokenSigner({ privateKeyPem: config.CALLER_TOKEN_PRIVATE_KEY }), logger, timeoutMs: config.SUBGRAPH_TIMEOUT_MS }));
  app.use(createHealthRouter({ subgraphUrls: config.subgraphUrls, agent, dependencies: { postgres: () => database.ping(), redis: () => redis.ping() } }));
  // Unsubscribe links and inbound mail webhooks: public, authenticated by their own signatures.
  app.use(createInboundMailRouter({ conversationServiceUrl: config.subgraphUrls.conversation, signer, agent, logger, timeoutMs: config.SUBGRAPH_TIMEOUT_MS }));
  // Files beside GraphQL (decision 0031): authenticated like /graphql, streamed to and from the
  // owning service. Browsers on another allowed origin may PUT and GET them.
  app.use(
    '/files',
    cors({
      origin: config.CORS_ORIGINS,
      methods: ['GET', 'PUT'],
      allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'content-disposition', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy', 'Retry-After'],
      maxAge: 600,
    }),
  );
  const fileTransfers = createFileTransferRoutes({
    tickets: createFileTickets({ secretsKey: config.SECRETS_KEY }),
    ledger: createUploadLedger({ redis }),
    signer,
    subgraphUrls: config.subgraphUrls,
    maximumBytes: config.FILE_MAX_BYTES,
    transferTimeoutMs: config.FILE_TRANSFER_TIMEOUT_MS,
    logger,
    edgeSecurity: [metrics.countRequests, assignRequestId, ...authentication, ...rateLimit],
  });
  app.use(fileTransfers.router);
  app.use(createHttpErrorHandler(logger));

  const webSockets = startGraphQLWebSocketServer({
    httpServer,
    apollo,
    apiSchema: () => apiSchema!,
    authenticator,
    rateLimit: rateLimitCheck,
    signer,
    feed,
    conversationEvents,
    connections: createConnectionLimiter({ redis, logger, maximumPerKey: config.MAX_CONNECTIONS_PER_KEY }),
    operationLimits,
    limits: {
      maximumSubscriptionsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maximumConnectionsPerKey: config.MAX_CONNECTIONS_PER_KEY,
      keepAliveMs: config.WEBSOCKET_KEEP_ALIVE_MS,
      maximumMessageBytes: config.MAX_BODY_BYTES,
      subscriptionOutageGraceMs: config.SUBSCRIPTION_OUTAGE_GRACE_MS,
    },
    shutdownGraceMs,
    operationTimeoutMs: config.OPERATION_TIMEOUT_MS,
    keyRecheckIntervalMs: Math.max(250, Math.floor(config.API_KEY_CACHE_TTL_MS / 2)),
    logger,
    onOperation: ({ caller, operationName, operationType, outcome, durationMs }) =>
      requestUsage.record({
        tenantId: caller.tenantId,
        apiKeyId: caller.keyId!,
        requestId: caller.requestId,
        operationName,
        operationType,
        outcome,
        // 101 Switching Protocols: the operation came over the WebSocket.
        httpStatus: 101,
        durationMs,
        at: new Date(),
      }),
  });
  metrics.observeWebSockets(webSockets);

  const url = await listenForGraphQL(httpServer, config.GATEWAY_PORT, config.GATEWAY_HOST);
  let closing: Promise<void> | undefined;
  logger.info({ url }, 'gateway listening');

  return {
    url,
    services: { apiKeys, usage },
    close() {
      closing ??= (async () => {
        // WebSocket clients first (1001, their subscriptions end), then HTTP drains: requests in
        // flight are answered (for up to the longest operation), then the connections close.
        await webSockets.close();
        await apollo.stop();
        await feed.close();
        await conversationEvents.close();
        // Usage still buffered is written before the database closes.
        await Promise.allSettled([requestUsage.close(), llmUsage.close()]);
        await Promise.allSettled([agent.close(), fileTransfers.close(), database.close(), closeRedis(redis)]);
      })();
      return closing;
    },
  };
}
