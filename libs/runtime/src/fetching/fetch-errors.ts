import { badUserInput, forbidden, upstreamUnavailable, type ErrorExtensions } from '../errors.js';
import type { GraphQLError } from 'graphql';

/** Why a page could not be fetched, in terms a user can act on. */
export type FetchFailureKind =
  /** The URL itself is unusable (syntax, scheme, credentials in it). */
  | 'invalid-url'
  /** The URL leads to an address we never fetch, or robots.txt forbids it. */
  | 'refused'
  /** The site could not be reached or did not answer in time. */
  | 'unreachable'
  /** The site answered, but not with something we can read (too large, not HTML, redirect loop). */
  | 'unusable-response';

const errorOf: Record<FetchFailureKind, (message: string, extensions: ErrorExtensions) => GraphQLError> = {
  'invalid-url': (message, extensions) => badUserInput(message, undefined, extensions),
  refused: forbidden,
  unreachable: upstreamUnavailable,
  'unusable-response': (message, extensions) => badUserInput(message, undefined, extensions),
};

export class FetchFailure extends Error {
  override readonly name = 'FetchFailure';

  constructor(
    readonly kind: FetchFailureKind,
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth trying again later: the site may come back, the other failures will not change. */
  get isRetryable(): boolean {
    return this.kind === 'unreachable';
  }

  toGraphQLError(): GraphQLError {
    return errorOf[this.kind](this.message, { url: this.url });
  }
}
