import { GraphQLError } from 'graphql';
import { presentedApiKey } from '../api-key/authentication.middleware.js';

/** graphql-ws's code for a missing or refused authentication. */
export const unauthorizedCloseCode = 4401;
/** The standard code for a policy limit. */
export const policyViolationCloseCode = 1008;
/** Standard "try again later": graphql-ws clients retry it. */
export const tryAgainLaterCloseCode = 1013;

// A close reason must fit in 123 bytes.
export const unauthenticatedReason = 'Unauthenticated: send connection_init with {"authorization": "Bearer <API key>"}.';
export const revokedKeyReason = 'Unauthenticated: this API key is no longer valid.';

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The API key a `connection_init` payload carries, under any of the names clients use. */
export function keyFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  return presentedApiKey({
    authorization: text(params?.['authorization'] ?? params?.['Authorization']),
    'x-api-key': text(params?.['apiKey'] ?? params?.['x-api-key'] ?? params?.['X-API-Key']),
  });
}

/** An error sent in a graphql-ws `error` message: plain extensions, no HTTP status. */
export function errorWithCode(message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}
