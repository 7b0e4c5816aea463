import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '@gtm/runtime';
import { unavailableSubgraphMessage } from './subgraph-data-source.js';

/** Whether any root field of the answer holds something: the part other subgraphs did provide. */
function someDataReturned(data: Record<string, unknown> | null | undefined): boolean {
  return !!data && Object.values(data).some((value) => value !== null && value !== undefined);
}

/**
 * Completes the message of each unavailable subgraph once the whole answer is known: "the rest is
 * complete" only when some data did come back, never on an answer whose `data` is null.
 */
export function useUnavailableSubgraphMessages<Context extends object>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          const result = response.body.singleResult;
          const otherDataReturned = someDataReturned(result.data);
          result.errors = result.errors!.map((error) => {
            const service = error.extensions?.['service'];
            if (error.extensions?.['code'] !== ErrorCode.UpstreamUnavailable || typeof service !== 'string') return error;
            if (error.message !== unavailableSubgraphMessage(service, false)) return error;
            return { ...error, message: unavailableSubgraphMessage(service, otherDataReturned) };
          });
        },
      };
    },
  };
}
