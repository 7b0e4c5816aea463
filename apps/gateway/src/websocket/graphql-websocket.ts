import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { CallerContext, CallerTokenSigner } from '@gtm/caller';
import type { JobProgressFeed } from '@gtm/jobs';
import { ErrorCode, internalServerError as internalError, type Logger } from '@gtm/runtime';
import type { ExecutionArgs, FormattedExecutionResult, GraphQLSchema } from 'graphql';
import type { Context as WebSocketContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ApiKeyAuthenticator, AuthenticatedKey } from '../api-key/api-key.authenticator.js';
import type { GatewayContext } from '../context.js';
import type { MeasuredLimits } from '../operation-limits/operation-limits.rules.js';
import type { RateLimitCheck } from '../rate-limit/rate-limit.middleware.js';
import type { ConnectionLimiter } from './connection-limiter.js';
import { watchKeyRevocation } from './key-revocation.js';
import type { ConversationEventFeed } from '../conversation-events/conversation-event.feed.js';
import { createWebSocketOperations, type Connection, type OperationContext } from './websocket-operations.js';
import { keyFromConnectionParams, policyViolationCloseCode, revokedKeyReason, tryAgainLaterCloseCode, unauthenticatedReason, unauthorizedCloseCode } from './websocket-protocol.js';

export interface WebSocketLimits {
  /** Operations one connection may run at once (subscriptions, mostly). */
  maximumSubscriptionsPerConnection: number;
  /** Open connections one API key may have, across gateway processes (enforced by the limiter). */
  maximumConnectionsPerKey: number;
  /** How often the server pings; a client that does not answer by the next ping is dropped. */
  keepAliveMs: number;
  /** Largest message a client may send, in bytes. */
  maximumMessageBytes: number;
  /** How long a subscription waits for a Redis that went away before it ends (see `openJobProgressStream`). */
  subscriptionOutageGraceMs: number;
}

/** What one operation over WebSocket came to, for usage metering. */
export interface WebSocketOperationRecord {
  caller: CallerContext;
  operationName: string | null;
  operationType: string | null;
  outcome: string;
  durationMs: number;
}

export interface GraphQLWebSocketOptions {
  httpServer: Server;
  /** Runs every operation, each subscription event included, through the same plugins as HTTP. */
  apollo: ApolloServer<GatewayContext>;
  /** The API schema operations are validated against (the gateway's, once loaded). */
  apiSchema: () => GraphQLSchema;
  authenticator: ApiKeyAuthenticator;
  rateLimit: RateLimitCheck;
  signer: CallerTokenSigner;
  feed: JobProgressFeed;
  /** Where `conversationEvents` subscriptions listen. */
  conversationEvents: ConversationEventFeed;
  connections: ConnectionLimiter;
  operationLimits: MeasuredLimits;
  limits: WebSocketLimits;
  logger: Logger;
  /** Called once per operation: a subscription when it starts or is refused, others when answered. */
  onOperation?: (record: WebSocketOperationRecord) => void;
  /** How long `close()` waits for clients to answer the close before dropping them. */
  shutdownGraceMs: number;
  /** Longest one operation may run (its subgraph fetches end by then). */
  operationTimeoutMs: number;
  /**
   * How often the keys of open connections are looked up again, so a revoked key's connections
   * close: half the key cache's lifetime, so within that lifetime, as over HTTP.
   */
  keyRecheckIntervalMs: number;
}

export interface GraphQLWebSocketServer {
  readonly openConnections: number;
  readonly openSubscriptions: number;
  /** Closes every connection with 1001 (going away), ends their subscriptions, stops listening. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (graphql-ws, subprotocol `graphql-transport-ws`) on the gateway's HTTP
 * server at /graphql. @apollo/gateway executes no subscription, so this server runs them: it
 * authenticates the connection with an API key from `connection_init`, checks each operation
 * (limits, rate limit, scope, validation), follows the job (or the tenant's conversation events) in Redis, and for each event executes
 * the client's selection as a query through Apollo. Queries and mutations sent over the socket go
 * through Apollo directly.
 */
export function startGraphQLWebSocketServer(options: GraphQLWebSocketOptions): GraphQLWebSocketServer {
  const { logger, limits } = options;
  const webSocketServer = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: limits.maximumMessageBytes });
  const connections = new WeakMap<WebSocketContext, Connection>();
  /** Every open connection, for the revocation check. */
  const openByConnectionId = new Map<string, Connection>();
  let openSubscriptions = 0;
  const revocation = watchKeyRevocation({
    intervalMs: options.keyRecheckIntervalMs,
    keysInUse: () => [...openByConnectionId.values()].map((connection) => connection.authenticatedKey.keyId),
    stillValid: (keyIds) => options.authenticator.stillValid(keyIds),
    onRevoked: (keyId) => {
      for (const connection of openByConnectionId.values()) {
        if (connection.authenticatedKey.keyId !== keyId) continue;
        logger.info({ keyId, connectionId: connection.connectionId }, 'closing a WebSocket connection whose API key is no longer valid');
        // Closing ends its subscriptions (graphql-ws returns each stream) and frees its slot.
        connection.socket.close(unauthorizedCloseCode, revokedKeyReason);
      }
    },
    logger,
  });

  const record = (caller: CallerContext, operationName: string | null | undefined, operationType: string | null, outcome: string, startedAt: number) =>
    options.onOperation?.({ caller, operationName: operationName ?? null, operationType, outcome, durationMs: performance.now() - startedAt });
  const { execute, prepare } = createWebSocketOperations({
    ...options,
    connectionOf: (context) => connections.get(context),
    record,
    subscriptionStarted: () => (openSubscriptions += 1),
    subscriptionEnded: () => (openSubscriptions -= 1),
  });

  const graphqlWebSocket = useServer<Record<string, unknown>>(
    {
      // Apollo Server, not graphql-ws, executes: onSubscribe prepares everything, and these only run it.
      execute: (async (args: ExecutionArgs) => {
        const context = args.contextValue as OperationContext;
        if (context.kind !== 'operation') throw new Error('a subscription reached execute');
        const result = await execute(context.caller, context.request, () => options.signer.sign(context.caller));
        const code = result.errors?.[0]?.extensions?.['code'];
        record(context.caller, context.request.operationName, context.operationType, result.errors?.length ? (typeof code === 'string' ? code : ErrorCode.Internal) : 'OK', context.startedAt);
        return result;
      }) as never,
      subscribe: ((args: ExecutionArgs) => {
        const context = args.contextValue as OperationContext;
        if (context.kind !== 'subscription') throw new Error('an operation reached subscribe');
        return context.stream;
      }) as never,
      onConnect: async (context) => {
        const { socket } = context.extra;
        const key = keyFromConnectionParams(context.connectionParams);
        let authenticatedKey: AuthenticatedKey | null;
        try {
          authenticatedKey = await options.authenticator.authenticate(key);
        } catch (error) {
          // The key registry could not answer: a retryable close, with nothing internal in it.
          logger.error({ err: error }, 'could not authenticate a WebSocket connection');
          socket.close(tryAgainLaterCloseCode, 'The gateway could not check the API key; try again shortly.');
          return false;
        }
        if (!authenticatedKey) {
          logger.info({ remoteAddress: context.extra.request.socket.remoteAddress }, 'refused a WebSocket connection without a valid API key');
          // graphql-ws would close with 4403 for `false`; an unknown key is 4401, as 401 over HTTP.
          socket.close(unauthorizedCloseCode, unauthenticatedReason);
          return false;
        }
        const connectionId = randomUUID();
        if (!(await options.connections.acquire(authenticatedKey.keyId, connectionId))) {
          socket.close(policyViolationCloseCode, `Too many connections: this API key already has ${limits.maximumConnectionsPerKey} open.`);
          return false;
        }
        if (socket.readyState !== socket.OPEN) {
          await options.connections.release(authenticatedKey.keyId, connectionId);
          return false;
        }
        const connection: Connection = { key: key!, authenticatedKey, connectionId, socket };
        connections.set(context, connection);
        openByConnectionId.set(connectionId, connection);
        return true;
      },
      onSubscribe: async (context, id, payload) => {
        try {
          return await prepare(context, id, payload);
        } catch (error) {
          // Redis or PostgreSQL away: this operation fails, the connection and its others go on.
          const requestId = randomUUID();
          logger.error({ err: error, requestId }, 'could not start a WebSocket operation');
          return [internalError(requestId)];
        }
      },
      // Apollo's results are already formatted (and masked): send them as they are.
      onNext: (_context, _id, _payload, _args, result) => result as FormattedExecutionResult,
      onClose: async (context) => {
        const connection = connections.get(context);
        if (!connection) return;
        connections.delete(context);
        openByConnectionId.delete(connection.connectionId);
        await options.connections.release(connection.authenticatedKey.keyId, connection.connectionId);
      },
    },
    webSocketServer,
    limits.keepAliveMs,
  );

  webSocketServer.on('error', (error) => logger.error({ err: error }, 'WebSocket server error'));

  return {
    get openConnections() {
      return openByConnectionId.size;
    },
    get openSubscriptions() {
      return openSubscriptions;
    },
    async close() {
      // 1001 to every client (graphql-ws clients reconnect, to another gateway process), which
      // ends each connection's subscriptions and stops their Redis listeners. A client that does
      // not answer the close within the grace period is dropped.
      revocation.stop();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.shutdownGraceMs)));
      const disposed = graphqlWebSocket.dispose();
      await Promise.race([disposed, graceOver]);
      clearTimeout(timer);
      for (const client of webSocketServer.clients) client.terminate();
      await disposed;
      await options.connections.close();
    },
  };
}
