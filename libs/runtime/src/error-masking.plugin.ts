import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { isPublicErrorCode, maskError } from './errors.js';
import type { Logger } from './logger.js';

export interface ErrorMaskingOptions<Context> {
  requestIdOf: (context: Context) => string | undefined;
  /** The request's logger, carrying its request id. */
  loggerOf: (context: Context) => Logger | undefined;
  /**
   * Errors that are unexpected but were logged where they happened, with the same request id (the
   * gateway gets a subgraph's masked INTERNAL_SERVER_ERROR): logged again only at debug level, so
   * each unexpected error has exactly one error line. Default: none.
   */
  loggedElsewhere?: (error: GraphQLError) => boolean;
}

/**
 * Logs every unexpected error once with its detail (stack, cause) and request id, then replaces it
 * in the response by INTERNAL_SERVER_ERROR and the request id, so a client never sees internals
 * but support can find the log line. "Unexpected" is exactly what `maskError` masks: any code
 * that is not raised on purpose, a library's own code included.
 */
export function useErrorMasking<Context extends BaseContext>(options: ErrorMaskingOptions<Context>): ApolloServerPlugin<Context> {
  return {
    // A plugin hook or Apollo itself failed outside execution; Apollo answers 500 on its own.
    async unexpectedErrorProcessingRequest({ requestContext, error }) {
      options.loggerOf(requestContext.contextValue)?.error({ err: error }, 'unexpected error while processing the request');
    },
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          const logger = options.loggerOf(contextValue);
          for (const error of errors) {
            if (isPublicErrorCode(error.extensions?.['code'])) continue;
            if (options.loggedElsewhere?.(error)) {
              logger?.debug({ path: error.path, extensions: error.extensions }, 'unexpected error, logged where it happened');
              continue;
            }
            logger?.error({ err: error.originalError ?? error, path: error.path, code: error.extensions?.['code'] }, 'unexpected error');
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind === 'single' && response.body.singleResult.errors) {
            const requestId = options.requestIdOf(contextValue);
            response.body.singleResult.errors = response.body.singleResult.errors.map((error) => maskError(error, requestId));
          }
        },
      };
    },
  };
}
