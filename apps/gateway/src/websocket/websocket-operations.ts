import { randomUUID } from 'node:crypto';
import type { ApolloServer, GraphQLRequest } from '@apollo/server';
import type { CallerContext, CallerTokenSigner } from '@gtm/caller';
import type { JobProgressEvent, JobProgressFeed } from '@gtm/jobs';
import { ErrorCode, findUnstorableInput, internalServerError as internalError, RequestErrorCode, unstorableInputError, type Logger } from '@gtm/runtime';
import {
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  OperationTypeNode,
  print,
  type ExecutionArgs,
  type FormattedExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Context as WebSocketContext, SubscribePayload } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { WebSocket } from 'ws';
import type { ApiKeyAuthenticator, AuthenticatedKey } from '../api-key/api-key.authenticator.js';
import { callerFor } from '../caller/caller-resolver.js';
import type { GatewayContext } from '../context.js';
import type { ConversationEventFeed, ConversationEventMessage } from '../conversation-events/conversation-event.feed.js';
import { openConversationEventStream } from '../conversation-events/conversation-event.stream.js';
import { openJobProgressStream } from '../job-progress/job-progress.stream.js';
import { checkOperationLimits, type MeasuredLimits } from '../operation-limits/operation-limits.rules.js';
import { operationResolutionMessage } from '../operation-resolution/operation-resolution.plugin.js';
import { rateLimitErrorBody, type RateLimitCheck } from '../rate-limit/rate-limit.middleware.js';
import { asQuery, createCheckedDocuments, createSharedExecutions, rootFieldOf, type CheckedDocument } from './subscription-document.js';
import { errorWithCode, revokedKeyReason, unauthorizedCloseCode } from './websocket-protocol.js';

/** Caller tokens last 60 s; one is reused for at most half that across a subscription's events. */
const callerTokenReuseMs = 30_000;
/** Event executions kept for subscribers that ask the same of the same event (see `createSharedExecutions`). */
const maximumSharedExecutions = 1_000;
/** Parsed and validated operations kept, by their text. */
const maximumCachedDocuments = 500;

/** An authenticated WebSocket connection. */
export interface Connection {
  key: string;
  authenticatedKey: AuthenticatedKey;
  connectionId: string;
  socket: WebSocket;
}

/** The context graphql-ws hands from `onSubscribe` to `execute` or `subscribe`. */
export type OperationContext =
  | { kind: 'operation'; caller: CallerContext; request: GraphQLRequest; startedAt: number; operationType: string }
  | { kind: 'subscription'; stream: AsyncIterableIterator<FormattedExecutionResult> };

export interface WebSocketOperationsOptions {
  apollo: ApolloServer<GatewayContext>;
  apiSchema: () => GraphQLSchema;
  authenticator: ApiKeyAuthenticator;
  rateLimit: RateLimitCheck;
  signer: CallerTokenSigner;
  feed: JobProgressFeed;
  /** Where `conversationEvents` subscriptions listen. */
  conversationEvents: ConversationEventFeed;
  operationLimits: MeasuredLimits;
  limits: { maximumSubscriptionsPerConnection: number; subscriptionOutageGraceMs: number };
  operationTimeoutMs: number;
  logger: Logger;
  connectionOf: (context: WebSocketContext<Record<string, unknown>, Extra>) => Connection | undefined;
  /** Records one operation's outcome (usage metering). */
  record: (caller: CallerContext, operationName: string | null | undefined, operationType: string | null, outcome: string, startedAt: number) => void;
  subscriptionStarted: () => void;
  subscriptionEnded: () => void;
}

export interface WebSocketOperations {
  /**
   * Runs one operation through Apollo (plugins, error masking, federation) as `caller`. Never
   * rejects: graphql-ws would send a rejection's message to the client as it is.
   */
  execute(
    caller: CallerContext,
    request: GraphQLRequest,
    callerToken: () => Promise<string>,
    carried?: { jobProgress?: JobProgressEvent; conversationEvent?: ConversationEventMessage },
  ): Promise<FormattedExecutionResult>;
  /** Everything checked before an operation may run; errors go back as graphql-ws `error` messages. */
  prepare(context: WebSocketContext<Record<string, unknown>, Extra>, id: string, payload: SubscribePayload): Promise<ExecutionArgs | GraphQLError[]>;
}

/** What the gateway does with each operation a WebSocket client sends. */
export function createWebSocketOperations(options: WebSocketOperationsOptions): WebSocketOperations {
  const { apollo, logger, limits } = options;
  const checked = createCheckedDocuments(maximumCachedDocuments);
  const sharedExecution = createSharedExecutions(maximumSharedExecutions);

  const execute: WebSocketOperations['execute'] = async (caller, request, callerToken, carried = {}) => {
    const requestLogger = logger.child({ requestId: caller.requestId, tenant: caller.tenantSlug });
    try {
      const contextValue: GatewayContext = {
        caller,
        callerToken: await callerToken(),
        requestId: caller.requestId,
        logger: requestLogger,
        deadline: performance.now() + options.operationTimeoutMs,
        ...carried,
      };
      const response = await apollo.executeOperation(request, { contextValue });
      if (response.body.kind !== 'single') return { errors: [{ message: 'Incremental delivery is not supported over WebSocket.', extensions: { code: 'BAD_REQUEST' } }] };
      return response.body.singleResult;
    } catch (error) {
      requestLogger.error({ err: error }, 'a WebSocket operation failed');
      return { errors: [internalError(caller.requestId).toJSON()] };
    }
  };

  const prepare: WebSocketOperations['prepare'] = async (context, id, payload) => {
    const startedAt = performance.now();
    const connection = options.connectionOf(context);
    if (!connection) return [errorWithCode('Unauthenticated.', ErrorCode.Unauthenticated)];
    // Runs again on every operation (cached for seconds): a revoked key starts nothing new.
    const authenticatedKey = await options.authenticator.authenticate(connection.key);
    if (!authenticatedKey) {
      context.extra.socket.close(unauthorizedCloseCode, revokedKeyReason);
      return [errorWithCode(revokedKeyReason, ErrorCode.Unauthenticated)];
    }
    const caller = callerFor(authenticatedKey, randomUUID());
    const refuse = (errors: GraphQLError[], operationType: string | null = null) => {
      const code = errors[0]?.extensions['code'];
      options.record(caller, payload.operationName, operationType, typeof code === 'string' ? code : ErrorCode.Internal, startedAt);
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
    if (!decision.allowed) {
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
    const argumentValues = getArgumentValues(fieldDefinition, field, variables.coerced);

    operationText.asQuery ??= print(asQuery(document, schema));
    const query: GraphQLRequest = { ...request, query: operationText.asQuery };
    const operationKey = [caller.tenantId, query.operationName ?? '', JSON.stringify(query.variables ?? {}), query.query].join('\n');
    let token = { value: '', signedAt: Number.NEGATIVE_INFINITY };
    const signedToken = async () => {
      if (performance.now() - token.signedAt > callerTokenReuseMs) token = { value: await options.signer.sign(caller), signedAt: performance.now() };
      return token.value;
    };

    if (field.name.value === 'conversationEvents') {
      const conversationId = argumentValues['conversationId'] === undefined || argumentValues['conversationId'] === null ? null : String(argumentValues['conversationId']);
      if (conversationId !== null) {
        // Another tenant's conversation, or none: NOT_FOUND, as for a job.
        const found = await execute(caller, { query: 'query ConversationOfSubscription($id: ID!) { conversation(id: $id) { id } }', variables: { id: conversationId } }, signedToken);
        if (found.errors?.length) return refuse([errorWithCode('Could not check the conversation; try again shortly.', ErrorCode.UpstreamUnavailable)], 'subscription');
        if (!found.data?.['conversation']) return refuse([errorWithCode(`Conversation ${conversationId} was not found.`, ErrorCode.NotFound)], 'subscription');
      }
      let conversationStream: AsyncIterableIterator<FormattedExecutionResult>;
      try {
        conversationStream = await openConversationEventStream({
          feed: options.conversationEvents,
          tenantId: caller.tenantId,
          conversationId,
          execute: (event) => sharedExecution(`conversation-event\n${event.id}\n${operationKey}`, () => execute(caller, query, signedToken, { conversationEvent: event })),
          onEnd: options.subscriptionEnded,
        });
      } catch (error) {
        logger.warn({ err: error, requestId: caller.requestId, conversationId }, 'could not follow conversations: Redis did not answer');
        return refuse([errorWithCode('Conversation events cannot be followed right now: their feed (Redis) does not answer. Subscribe again shortly.', ErrorCode.UpstreamUnavailable)], 'subscription');
      }
      options.subscriptionStarted();
      options.record(caller, payload.operationName, 'subscription', 'OK', startedAt);
      logger.debug({ requestId: caller.requestId, conversationId, subscription: id }, 'subscription started');
      const contextValue: OperationContext = { kind: 'subscription', stream: conversationStream };
      return { ...executionArgs, contextValue };
    }

    const jobId = String(argumentValues['jobId']);
    let stream: Awaited<ReturnType<typeof openJobProgressStream>>;
    try {
      stream = await openJobProgressStream({
        feed: options.feed,
        jobId,
        tenantId: caller.tenantId,
        execute: (event) =>
          sharedExecution(`${event.snapshot.jobId}\n${event.sequence}\n${event.snapshot.updatedAt}\n${operationKey}`, () =>
            execute(caller, query, signedToken, { jobProgress: event }),
          ),
        onEnd: options.subscriptionEnded,
        outageGraceMs: limits.subscriptionOutageGraceMs,
      });
    } catch (error) {
      // Redis away: the client may subscribe again shortly.
      logger.warn({ err: error, requestId: caller.requestId, jobId }, 'could not follow a job: Redis did not answer');
      return refuse([errorWithCode('Job progress cannot be followed right now: its store (Redis) does not answer. Subscribe again shortly.', ErrorCode.UpstreamUnavailable)], 'subscription');
    }
    // Unknown, expired and another tenant's: one answer for all three.
    if (!stream) return refuse([errorWithCode(`Job ${jobId} was not found.`, ErrorCode.NotFound)], 'subscription');
    options.subscriptionStarted();
    options.record(caller, payload.operationName, 'subscription', 'OK', startedAt);
    logger.debug({ requestId: caller.requestId, jobId, subscription: id }, 'subscription started');
    const contextValue: OperationContext = { kind: 'subscription', stream };
    return { ...executionArgs, contextValue };
  };

  return { execute, prepare };
}
