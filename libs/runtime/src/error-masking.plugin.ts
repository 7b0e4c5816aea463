import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ErrorCode, maskError } from './errors.js';
import type { Logger } from './logger.js';

export interface ErrorMaskingOptions<Context> {
  requestIdOf: (context: Context) => string | undefined;
  loggerOf: (context: Context) => Logger | undefined;
}

/**
 * Logs every unexpected error with its detail (stack, cause), then replaces it in the response by
 * INTERNAL_SERVER_ERROR and the request id, so a client never sees internals but support can
 * find the log line.
 */
export function useErrorMasking<Context extends BaseContext>(options: ErrorMaskingOptions<Context>): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const code = error.extensions?.['code'];
            if (code === undefined || code === ErrorCode.Internal) {
              options.loggerOf(contextValue)?.error({ err: error.originalError ?? error, path: error.path }, 'unexpected error');
            }
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
