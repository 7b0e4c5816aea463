import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { checkOperationLimits, type MeasuredLimits } from './operation-limits.rules.js';

/**
 * Refuses an operation over the depth, alias or cost limit with HTTP 400 and
 * `extensions: { code: 'OPERATION_LIMIT_EXCEEDED', limit, maximum, actual }`.
 *
 * A plugin rather than validation rules because Apollo Server validates before it knows the
 * variables (and caches the result per document), while the cost of `leads(first: $n)` depends on
 * `$n`; and because Apollo rewrites every validation error's code to GRAPHQL_VALIDATION_FAILED.
 * `didResolveOperation` runs after validation, so the document is valid (no fragment cycles, no
 * unknown fields) and nothing has been fetched from a subgraph yet.
 */
export function useOperationLimits<Context extends BaseContext>(limits: MeasuredLimits): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          // Typed optional, but Apollo answers OPERATION_RESOLUTION_FAILURE before this hook when it finds none.
          if (!operation) return;
          const error = checkOperationLimits({ schema, document, operation, variables: request.variables }, limits);
          if (!error) return;
          // Apollo Server takes the status from `extensions.http` and removes it from the response.
          throw new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, http: { status: 400 } } });
        },
      };
    },
  };
}
