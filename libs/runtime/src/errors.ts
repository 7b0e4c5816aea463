import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The stable error codes clients may branch on (`extensions.code` of every API error). */
export const ErrorCode = {
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  BadUserInput: 'BAD_USER_INPUT',
  RateLimited: 'RATE_LIMITED',
  UpstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  OperationLimitExceeded: 'OPERATION_LIMIT_EXCEEDED',
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function notFound(what: string, id: string): GraphQLError {
  return new GraphQLError(`${what} ${id} was not found.`, { extensions: { code: ErrorCode.NotFound } });
}

export function badUserInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BadUserInput, ...(field ? { field } : {}) } });
}

const publicCodes = new Set<string>(Object.values(ErrorCode).filter((code) => code !== ErrorCode.Internal));
// GraphQL's own parse and validation failures are the caller's mistake and safe to show as they are.
const graphqlClientCodes = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * Apollo Server `formatError`: errors we raised on purpose keep their message and code; anything
 * else (a bug, a SQL error, a library's message) becomes INTERNAL_SERVER_ERROR with the request id,
 * so no stack, SQL or secret ever reaches a client. The original is logged by the caller.
 */
export function maskError(formatted: GraphQLFormattedError, requestId: string | undefined): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && (publicCodes.has(code) || graphqlClientCodes.has(code))) {
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
