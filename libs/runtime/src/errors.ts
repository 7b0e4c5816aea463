import { GraphQLError, type ASTNode, type GraphQLFormattedError } from 'graphql';

/** The stable error codes clients may branch on (`extensions.code` of every API error). */
export const ErrorCode = {
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  BadUserInput: 'BAD_USER_INPUT',
  RateLimited: 'RATE_LIMITED',
  UpstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  /** What the request meant to change was changed by someone else meanwhile; nothing was changed, and the same request may succeed now. */
  Conflict: 'CONFLICT',
  OperationLimitExceeded: 'OPERATION_LIMIT_EXCEEDED',
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What an error carries beside its code: the field at fault, limits, a service's name … */
export type ErrorExtensions = Record<string, unknown>;

function errorWithCode(code: ErrorCode, message: string, extensions: ErrorExtensions = {}, nodes?: ReadonlyArray<ASTNode> | ASTNode): GraphQLError {
  return new GraphQLError(message, { ...(nodes ? { nodes } : {}), extensions: { code, ...extensions } });
}

// One constructor per code a service raises on purpose. INTERNAL_SERVER_ERROR has none: it is what
// maskError makes of everything that was not raised on purpose.

/** The request carries no valid credentials. */
export function unauthenticated(message: string, extensions?: ErrorExtensions): GraphQLError {
  return errorWithCode(ErrorCode.Unauthenticated, message, extensions);
}

/** The caller is known but may not do this (a missing scope …). */
export function forbidden(message: string, extensions?: ErrorExtensions): GraphQLError {
  return errorWithCode(ErrorCode.Forbidden, message, extensions);
}

/** `what` with this id does not exist for the caller's tenant (another tenant's reads the same). */
export function notFound(what: string, id: string): GraphQLError {
  return errorWithCode(ErrorCode.NotFound, `${what} ${id} was not found.`);
}

/** The caller's input is wrong; `field` names the argument or input field to fix. */
export function badUserInput(message: string, field?: string, extensions?: ErrorExtensions): GraphQLError {
  return errorWithCode(ErrorCode.BadUserInput, message, { ...(field ? { field } : {}), ...extensions });
}

/** A rate limit or budget is spent; extensions say which and when it resets. */
export function rateLimited(message: string, extensions?: ErrorExtensions): GraphQLError {
  return errorWithCode(ErrorCode.RateLimited, message, extensions);
}

/** Something this answer depends on (another service, Redis, a model) is unavailable; trying again later may work. */
export function upstreamUnavailable(message: string, extensions?: ErrorExtensions): GraphQLError {
  return errorWithCode(ErrorCode.UpstreamUnavailable, message, extensions);
}

/** What the request meant to change was changed by someone else while it ran; nothing was changed. */
export function conflict(message: string, extensions?: ErrorExtensions): GraphQLError {
  return errorWithCode(ErrorCode.Conflict, message, extensions);
}

/** The operation is over a limit on its size or shape; `nodes` point at the part of the document at fault. */
export function operationLimitExceeded(message: string, extensions?: ErrorExtensions, nodes?: ReadonlyArray<ASTNode> | ASTNode): GraphQLError {
  return errorWithCode(ErrorCode.OperationLimitExceeded, message, extensions, nodes);
}

const publicCodes = new Set<string>(Object.values(ErrorCode).filter((code) => code !== ErrorCode.Internal));

/**
 * Codes of a request that GraphQL over HTTP calls a request error (the document could not be
 * parsed, validated, or told which operation to run): the caller's mistake, answered with 400 and
 * shown as they are.
 */
export const RequestErrorCode = {
  ParseFailed: 'GRAPHQL_PARSE_FAILED',
  ValidationFailed: 'GRAPHQL_VALIDATION_FAILED',
  BadRequest: 'BAD_REQUEST',
  PersistedQueryNotFound: 'PERSISTED_QUERY_NOT_FOUND',
  OperationResolutionFailure: 'OPERATION_RESOLUTION_FAILURE',
} as const;
const graphqlClientCodes = new Set<string>(Object.values(RequestErrorCode));

/**
 * Whether an error with this `extensions.code` reaches the client as raised. Everything else is
 * unexpected: masked to INTERNAL_SERVER_ERROR, and logged where it happened.
 */
export function isPublicErrorCode(code: unknown): boolean {
  return typeof code === 'string' && (publicCodes.has(code) || graphqlClientCodes.has(code));
}

/**
 * The error a client sees where an unexpected failure happened outside GraphQL execution (a request
 * context that could not be built, an HTTP handler that threw): the same text and code `maskError`
 * gives (Apollo Server answers it with HTTP 500).
 */
export function internalServerError(requestId: string | undefined): GraphQLError {
  const masked = maskError({ message: 'unexpected' }, requestId);
  return new GraphQLError(masked.message, { extensions: masked.extensions });
}

/**
 * Apollo Server `formatError`: errors we raised on purpose keep their message and code; anything
 * else (a bug, a SQL error, a library's message) becomes INTERNAL_SERVER_ERROR with the request id,
 * so no stack, SQL or secret ever reaches a client. The original is logged by the caller.
 */
export function maskError(formatted: GraphQLFormattedError, requestId: string | undefined): GraphQLFormattedError {
  if (isPublicErrorCode(formatted.extensions?.['code'])) {
    const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return {
    message: `Internal server error. Quote request id ${requestId ?? 'unknown'} when reporting it.`,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: ErrorCode.Internal, requestId },
  };
}
