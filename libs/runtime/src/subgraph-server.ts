import { createServer, type Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { callerDelegationHeader, CallerTokenError, callerTokenHeader, requestIdHeader, type CallerContext, type CallerTokenVerifier } from '@gtm/caller';
import { createAccessLog } from './access-log.js';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { GraphQLSchema } from 'graphql';
import { publicUrlHeader, type SubgraphContext } from './context.js';
import type { Database, EntityManager } from './database.js';
import { useErrorMasking } from './error-masking.plugin.js';
import { internalServerError, unauthenticated } from './errors.js';
import { runHealthChecks } from './health.js';
import { useStorableInput } from './storable-input.plugin.js';
import { runWithRequestId } from './request-id.js';
import { apolloLoggerFrom, createHttpErrorHandler } from './http-errors.js';
import { listenForGraphQL } from './listen.js';
import type { Logger } from './logger.js';
import { closeRedis, type Redis } from './redis.js';

export interface SubgraphServerOptions<Loaders> {
  /** Service name, as in logs and the health report. */
  name: string;
  schema: GraphQLSchema;
  database: Database;
  redis: Redis;
  logger: Logger;
  verifier: CallerTokenVerifier;
  /**
   * Builds the request's DataLoaders over its tenant-scoped EntityManager. `callerToken` is the
   * request's signed token, for a loader that reads another subgraph on the caller's behalf.
   */
  createLoaders: (em: EntityManager, caller: CallerContext, callerToken: string | undefined) => Loaders;
  /** How long `close()` waits for in-flight requests. Default: 10 seconds. */
  shutdownGraceMs?: number;
  /**
   * Routes beside /graphql: the file transfers of @gtm/files and the webhooks the gateway relays.
   * They authenticate requests themselves (a caller token, a relay token, a provider's signature).
   * Default: none.
   */
  routes?: RequestHandler;
  /**
   * HTTP routes beside /graphql (an inbound webhook the gateway forwards …), mounted before it.
   * `authenticate` refuses a request without a caller token signed by the gateway, as /graphql
   * does, and leaves the verified caller in `response.locals.caller`. Default: none.
   */
  mountRoutes?: (app: Express, helpers: { authenticate: RequestHandler }) => void;
}

const publicUrlPattern = /^https?:\/\/[A-Za-z0-9.:[\]-]+$/;

export interface SubgraphServer {
  httpServer: Server;
  /** Starts listening; resolves with the URL of the GraphQL endpoint. */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting, drains in-flight requests, then closes the database and Redis. */
  close(): Promise<void>;
}

const unauthenticatedBody = {
  errors: [unauthenticated('Unauthenticated: this service only answers requests signed by the GTM Graph gateway. Send your request to the gateway.').toJSON()],
};

export async function createSubgraphServer<Loaders>(options: SubgraphServerOptions<Loaders>): Promise<SubgraphServer> {
  const { database, redis, logger, verifier } = options;
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  // The gateway keeps connections to subgraphs alive; outlive its idle timeout so it never reuses a
  // socket this side is closing.
  httpServer.keepAliveTimeout = 65_000;
  // A file upload from the gateway may take longer than Node's 5-minute default to arrive; only the
  // gateway reaches a subgraph, and it bounds its clients' transfers itself.
  if (options.routes) httpServer.requestTimeout = 0;

  const apollo = new ApolloServer<SubgraphContext<Loaders>>({
    schema: options.schema,
    logger: apolloLoggerFrom(logger),
    includeStacktraceInErrorResponses: false,
    // runMain owns SIGINT/SIGTERM: it drains, closes pools and exits. Apollo's own handlers would
    // race it and re-raise the signal into a process that already handles it.
    stopOnTerminationSignals: false,
    plugins: [
      // Inline traces feed Apollo Studio, which this deployment does not use; they only cost time.
      ApolloServerPluginInlineTraceDisabled(),
      // No subgraph declares cache hints, and Apollo's cache-control plugin, on by default, wraps
      // every field's resolver to collect them: per request that wrapping cost about 2 % of a
      // subgraph's CPU, for an answer that could only ever say `no-store`. The gateway reads an
      // answer without the header the same way (nothing cacheable).
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: options.shutdownGraceMs ?? 10_000 }),
      useStorableInput<SubgraphContext<Loaders>>(),
      useErrorMasking<SubgraphContext<Loaders>>({ requestIdOf: (context) => context.caller?.requestId, loggerOf: (context) => context.logger }),
    ],
  });
  await apollo.start();

  app.get('/health', async (_request, response) => {
    const report = await runHealthChecks(options.name, { postgres: () => database.ping(), redis: () => redis.ping() });
    response.status(report.status === 'ok' ? 200 : 503).json(report);
  });

  if (options.routes) app.use(options.routes);

  const authenticate = async (request: Request, response: Response, next: NextFunction) => {
    try {
      const caller = await verifier.verify(request.header(callerTokenHeader), request.header(requestIdHeader));
      response.locals['caller'] = caller;
      // Calls this request makes to other subgraphs carry its id (`forwardedRequestId`).
      runWithRequestId(caller.requestId, next);
    } catch (error) {
      if (!(error instanceof CallerTokenError)) return next(error);
      logger.warn({ reason: error.message, remoteAddress: request.socket.remoteAddress }, 'refused request without a valid caller token');
      response.status(401).json(unauthenticatedBody);
    }
  };

  options.mountRoutes?.(app, { authenticate });

  app.use(
    '/graphql',
    createAccessLog(logger),
    authenticate,
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const caller = res.locals['caller'] as CallerContext;
        const requestLogger = logger.child({ requestId: caller.requestId, tenant: caller.tenantSlug });
        try {
          const em = database.forkForTenant(caller.tenantId);
          const callerToken = req.header(callerTokenHeader);
          const publicUrl = req.header(publicUrlHeader);
          return {
            ...(publicUrl && publicUrlPattern.test(publicUrl) ? { publicUrl } : {}),
            em,
            caller,
            loaders: options.createLoaders(em, caller, callerToken),
            logger: requestLogger,
            callerToken,
            delegatedCallerToken: req.header(callerDelegationHeader),
          };
        } catch (error) {
          // Apollo would answer with the error's own message; this is logged here and masked.
          requestLogger.error({ err: error }, 'could not build the request context');
          throw internalServerError(caller.requestId);
        }
      },
    }),
  );
  app.use(createHttpErrorHandler(logger));

  return {
    httpServer,
    listen: (port, host) => listenForGraphQL(httpServer, port, host),
    async close() {
      // apollo.stop() runs the drain plugin: stop accepting, wait for in-flight requests, close sockets.
      await apollo.stop();
      await Promise.allSettled([database.close(), closeRedis(redis)]);
    },
  };
}
