import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ApolloServer, GraphQLRequest } from '@apollo/server';
import type { CallerContext, CallerTokenSigner } from '@gtm/caller';
import type { JobProgressEvent, JobProgressFeed } from '@gtm/jobs';
import { ErrorCode, findUnstorableInput, internalServerError as internalError, RequestErrorCode, unstorableInputError, type Logger } from '@gtm/runtime';
import {
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  OperationTypeNode,
  parse,
  print,
  validate,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type FormattedExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Context as WebSocketContext, SubscribePayload } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ApiKeyAuthenticator, AuthenticatedKey } from '../api-key/api-key.authenticator.js';
import { presentedApiKey } from '../api-key/authentication.middleware.js';
import { callerFor } from '../caller/caller-resolver.js';
import type { GatewayContext } from '../context.js';
import { openJobProgressStream } from '../job-progress/job-progress.stream.js';
import { checkOperationLimits, type MeasuredLimits } from '../operation-limits/operation-limits.rules.js';
import { operationResolutionMessage } from '../operation-resolution/operation-resolution.plugin.js';
import type { RateLimitCheck } from '../rate-limit/rate-limit.middleware.js';
import { rateLimitErrorBody } from '../rate-limit/rate-limit.middleware.js';
import type { ConnectionLimiter } from './connection-limiter.js';

export interface WebSocketLimits {
  /** Operations one connection may run at once (subscriptions, mostly). */
  maximumSubscriptionsPerConnection: number;
  /** Open connections one API key may have, across gateway processes (enforced by the limiter). */
  maximumConnectionsPerKey: number;
  /** How often the server pings; a client that does not answer by the next ping is dropped. */
  keepAliveMs: number;
  /** Largest message a client may send, in bytes. */
  maximumMessageBytes: number;
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
  connections: ConnectionLimiter;
  operationLimits: MeasuredLimits;
  limits: WebSocketLimits;
  logger: Logger;
  /** Called once per operation: a subscription when it starts or is refused, others when answered. */
  onOperation?: (record: WebSocketOperationRecord) => void;
  /** How long `close()` waits for clients to answer the close before dropping them. */
  shutdownGraceMs: number;
}

export interface GraphQLWebSocketServer {
  readonly openConnections: number;
  readonly openSubscriptions: number;
  /** Closes every connection with 1001 (going away), ends their subscriptions, stops listening. */
  close(): Promise<void>;
}

/** graphql-ws's code for a missing or refused authentication, and the standard one for a policy limit. */
const unauthorizedCloseCode = 4401;
const policyViolationCloseCode = 1008;
/** Standard "try again later": graphql-ws clients retry it. */
const tryAgainLaterCloseCode = 1013;
/** Caller tokens last 60 s; one is reused for at most half that across a subscription's events. */
const callerTokenReuseMs = 30_000;
/** Event executions kept for subscribers that ask the same of the same event (see `sharedExecution`). */
const maximumSharedExecutions = 1_000;
/** Parsed and validated operations kept, by their text. */
const maximumCachedDocuments = 500;

interface CheckedDocument {
  schema: GraphQLSchema;
  document: DocumentNode;
  errors: readonly GraphQLError[];
  /** The subscription as a query (see `asQuery`), printed once. */
  asQuery?: string;
}

interface Connection {
  key: string;
  authenticatedKey: AuthenticatedKey;
  connectionId: string;
}

/** The context graphql-ws hands from `onSubscribe` to `execute` or `subscribe`. */
type OperationContext =
  | { kind: 'operation'; caller: CallerContext; request: GraphQLRequest; startedAt: number; operationType: string }
  | { kind: 'subscription'; stream: AsyncIterableIterator<FormattedExecutionResult> };

// A close reason must fit in 123 bytes.
const unauthenticatedReason = 'Unauthenticated: send connection_init with {"authorization": "Bearer <API key>"}.';

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The API key a `connection_init` payload carries, under any of the names clients use. */
function keyFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  return presentedApiKey({
    authorization: text(params?.['authorization'] ?? params?.['Authorization']),
    'x-api-key': text(params?.['apiKey'] ?? params?.['x-api-key'] ?? params?.['X-API-Key']),
  });
}

function errorWithCode(message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** The one root field of a (validated) subscription, through any fragments it sits in. */
function rootFieldOf(document: DocumentNode, selectionSet: SelectionSetNode): FieldNode | undefined {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) return selection;
    const nested =
      selection.kind === Kind.INLINE_FRAGMENT
        ? selection.selectionSet
        : document.definitions.find((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === selection.name.value)
            ?.selectionSet;
    const field = nested && rootFieldOf(document, nested);
    if (field) return field;
  }
  return undefined;
}

/**
 * The subscription as a query of the same field: `Query.jobProgress` answers what
 * `Subscription.jobProgress` sends, so each event runs through the gateway's normal executor and
 * fields of other subgraphs' entities are resolved by federation as in any query.
 */
function asQuery(document: DocumentNode, schema: GraphQLSchema): DocumentNode {
  const subscriptionType = schema.getSubscriptionType()?.name ?? 'Subscription';
  const queryType = schema.getQueryType()?.name ?? 'Query';
  return visit(document, {
    OperationDefinition: (node) => (node.operation === OperationTypeNode.SUBSCRIPTION ? { ...node, operation: OperationTypeNode.QUERY } : undefined),
    NamedType: (node) => (node.name.value === subscriptionType ? { ...node, name: { ...node.name, value: queryType } } : undefined),
  });
}

/**
 * GraphQL over WebSocket (graphql-ws, subprotocol `graphql-transport-ws`) on the gateway's HTTP
 * server at /graphql. @apollo/gateway executes no subscription, so this server runs them: it
 * authenticates the connection with an API key from `connection_init`, checks each operation
 * (limits, rate limit, scope, validation), follows the job in Redis, and for each event executes
 * the client's selection as a query through Apollo. Queries and mutations sent over the socket go
 * through Apollo directly.
 */
export function startGraphQLWebSocketServer(options: GraphQLWebSocketOptions): GraphQLWebSocketServer {
  const { apollo, logger, limits } = options;
  const webSocketServer = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: limits.maximumMessageBytes });
  const connections = new WeakMap<WebSocketContext, Connection>();
  let openConnections = 0;
  let openSubscriptions = 0;
  const sharedExecutions = new Map<string, Promise<FormattedExecutionResult>>();
  // Clients send the same few operations again and again (every tab of a dashboard): parsing and
  // validating each text once keeps a thousand subscriptions from holding a thousand syntax trees.
  const checkedDocuments = new Map<string, CheckedDocument>();
  const checked = (schema: GraphQLSchema, query: string): CheckedDocument => {
    const cached = checkedDocuments.get(query);
    if (cached?.schema === schema) return cached;
    const document = parse(query);
    const result = { schema, document, errors: validate(schema, document) };
    checkedDocuments.set(query, result);
    if (checkedDocuments.size > maximumCachedDocuments) checkedDocuments.delete(checkedDocuments.keys().next().value!);
    return result;
  };

  /**
   * Many subscribers often follow one job with the same selection (a team watching a big import):
   * one event then needs one execution, not one per subscriber. The key holds everything the
   * answer depends on: the event, the tenant whose data it shows, and the operation with its
   * variables. The oldest entries go first; an event is only ever asked for while it is new.
   */
  const sharedExecution = (key: string, run: () => Promise<FormattedExecutionResult>): Promise<FormattedExecutionResult> => {
    let execution = sharedExecutions.get(key);
    if (!execution) {
      execution = run();
      sharedExecutions.set(key, execution);
      if (sharedExecutions.size > maximumSharedExecutions) sharedExecutions.delete(sharedExecutions.keys().next().value!);
    }
    return execution;
  };

  const record = (caller: CallerContext, operationName: string | null | undefined, operationType: string | null, outcome: string, startedAt: number) =>
    options.onOperation?.({ caller, operationName: operationName ?? null, operationType, outcome, durationMs: performance.now() - startedAt });

  /**
   * Runs one operation through Apollo (plugins, error masking, federation) as `caller`. Never
   * rejects: graphql-ws would send a rejection's message to the client as it is.
   */
  const execute = async (caller: CallerContext, request: GraphQLRequest, callerToken: () => Promise<string>, jobProgress?: JobProgressEvent): Promise<FormattedExecutionResult> => {
    const requestLogger = logger.child({ requestId: caller.requestId, tenant: caller.tenantSlug });
    try {
      const contextValue: GatewayContext = { caller, callerToken: await callerToken(), requestId: caller.requestId, logger: requestLogger, jobProgress };
      const response = await apollo.executeOperation(request, { contextValue });
      if (response.body.kind !== 'single') return { errors: [{ message: 'Incremental delivery is not supported over WebSocket.', extensions: { code: 'BAD_REQUEST' } }] };
      return response.body.singleResult;
    } catch (error) {
      requestLogger.error({ err: error }, 'a WebSocket operation failed');
      return { errors: [internalError(caller.requestId).toJSON()] };
    }
  };

  /** Everything checked before an operation may run; errors go back as graphql-ws `error` messages. */
  const prepare = async (context: WebSocketContext<Record<string, unknown>, Extra>, id: string, payload: SubscribePayload): Promise<ExecutionArgs | GraphQLError[]> => {
    const startedAt = performance.now();
    const connection = connections.get(context);
    if (!connection) return [errorWithCode('Unauthenticated.', ErrorCode.Unauthenticated)];
    // Runs again on every operation (cached for seconds): a revoked key starts nothing new.
    const authenticatedKey = await options.authenticator.authenticate(connection.key);
    if (!authenticatedKey) {
      context.extra.socket.close(unauthorizedCloseCode, 'Unauthenticated: this API key is no longer valid.');
      return [errorWithCode('Unauthenticated: this API key is no longer valid.', ErrorCode.Unauthenticated)];
    }
    const caller = callerFor(authenticatedKey, randomUUID());
    const refuse = (errors: GraphQLError[], operationType: string | null = null) => {
      const code = errors[0]?.extensions['code'];
      record(caller, payload.operationName, operationType, typeof code === 'string' ? code : ErrorCode.Internal, startedAt);
      return errors;
    };

    // graphql-ws registers the operation before asking, so it counts itself.
    const running = Object.keys(context.subscriptions).length;
    if (running > limits.maximumSubscriptionsPerConnection) {
      return refuse([
        errorWithCode(
          `Too many operations on this connection: at most ${limits.maximumSubscriptionsPerConnection} may run at once. Complete one, or open another connection.`,
          ErrorCode.OperationLimitExceeded,
          { limit: 'subscriptionsPerConnection', maximum: limits.maximumSubscriptionsPerConnection },
        ),
      ]);
    }
    const decision = await options.rateLimit(caller);
    if (decision && !decision.allowed) {
      const [error] = rateLimitErrorBody(caller, decision).errors;
      return refuse([errorWithCode(error.message, ErrorCode.RateLimited, { ...error.extensions })]);
    }

    const schema = options.apiSchema();
    let operationText: CheckedDocument;
    try {
      operationText = checked(schema, payload.query);
    } catch (error) {
      return refuse([errorWithCode(error instanceof GraphQLError ? error.message : 'The query could not be parsed.', 'GRAPHQL_PARSE_FAILED')]);
    }
    const { document } = operationText;
    if (operationText.errors.length > 0) {
      return refuse(operationText.errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })));
    }
    const operation: OperationDefinitionNode | null | undefined = getOperationAST(document, payload.operationName);
    if (!operation) return refuse([errorWithCode(operationResolutionMessage(document, payload.operationName ?? undefined), RequestErrorCode.OperationResolutionFailure)]);
    const unstorable = findUnstorableInput(document, payload.variables);
    if (unstorable) {
      const { message, extensions } = unstorableInputError(unstorable);
      return refuse([errorWithCode(message, ErrorCode.BadUserInput, { field: extensions['field'] })]);
    }

    const executionArgs = { schema, document, operationName: payload.operationName, variableValues: payload.variables };
    const request: GraphQLRequest = { query: payload.query, variables: payload.variables ?? undefined, operationName: payload.operationName ?? undefined };
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      // Scope, operation limits and the rest are Apollo's plugins' to check, as over HTTP.
      const contextValue: OperationContext = { kind: 'operation', caller, request, startedAt, operationType: operation.operation };
      return { ...executionArgs, contextValue };
    }

    if (!caller.scopes.includes('read') && !caller.scopes.includes('admin')) {
      return refuse([errorWithCode('Forbidden: this API key lacks the "read" scope needed for a subscription. Use a key created with --scopes read.', ErrorCode.Forbidden, { requiredScope: 'read' })], 'subscription');
    }
    const limitError = checkOperationLimits({ schema, document, operation, variables: payload.variables ?? undefined }, options.operationLimits);
    if (limitError) return refuse([limitError], 'subscription');
    const variables = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {});
    if (variables.errors) return refuse(variables.errors.map((error) => errorWithCode(error.message, ErrorCode.BadUserInput)), 'subscription');
    const field = rootFieldOf(document, operation.selectionSet);
    const fieldDefinition = field && schema.getSubscriptionType()?.getFields()[field.name.value];
    if (!field || !fieldDefinition) return refuse([errorWithCode('A subscription needs one field of `Subscription`.', 'GRAPHQL_VALIDATION_FAILED')], 'subscription');
    const jobId = String(getArgumentValues(fieldDefinition, field, variables.coerced)['jobId']);

    operationText.asQuery ??= print(asQuery(document, schema));
    const query: GraphQLRequest = { ...request, query: operationText.asQuery };
    const operationKey = [caller.tenantId, query.operationName ?? '', JSON.stringify(query.variables ?? {}), query.query].join('\n');
    let token = { value: '', signedAt: Number.NEGATIVE_INFINITY };
    const stream = await openJobProgressStream({
      feed: options.feed,
      jobId,
      tenantId: caller.tenantId,
      execute: (event) =>
        sharedExecution(`${event.snapshot.jobId}\n${event.sequence}\n${event.snapshot.updatedAt}\n${operationKey}`, () =>
          execute(
            caller,
            query,
            async () => {
              if (performance.now() - token.signedAt > callerTokenReuseMs) token = { value: await options.signer.sign(caller), signedAt: performance.now() };
              return token.value;
            },
            event,
          ),
        ),
      onEnd: () => (openSubscriptions -= 1),
    });
    // Unknown, expired and another tenant's: one answer for all three.
    if (!stream) return refuse([errorWithCode(`Job ${jobId} was not found.`, ErrorCode.NotFound)], 'subscription');
    openSubscriptions += 1;
    record(caller, payload.operationName, 'subscription', 'OK', startedAt);
    logger.debug({ requestId: caller.requestId, jobId, subscription: id }, 'subscription started');
    const contextValue: OperationContext = { kind: 'subscription', stream };
    return { ...executionArgs, contextValue };
  };

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
        connections.set(context, { key: key!, authenticatedKey, connectionId });
        openConnections += 1;
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
        openConnections -= 1;
        await options.connections.release(connection.authenticatedKey.keyId, connection.connectionId);
      },
    },
    webSocketServer,
    limits.keepAliveMs,
  );

  webSocketServer.on('error', (error) => logger.error({ err: error }, 'WebSocket server error'));

  return {
    get openConnections() {
      return openConnections;
    },
    get openSubscriptions() {
      return openSubscriptions;
    },
    async close() {
      // 1001 to every client (graphql-ws clients reconnect, to another gateway process), which
      // ends each connection's subscriptions and stops their Redis listeners. A client that does
      // not answer the close within the grace period is dropped.
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
