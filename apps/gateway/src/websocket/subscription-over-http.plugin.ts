import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';

/**
 * Answers a subscription sent over HTTP with a 400 that says where subscriptions are served.
 * Apollo would hand it to @apollo/gateway, which executes no subscription, and the client would
 * get an internal error. Subscriptions over the WebSocket never reach Apollo as subscriptions:
 * the WebSocket server runs each event as a query.
 */
export function useSubscriptionsOverWebSocketOnly<Context extends BaseContext>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('Subscriptions are served over WebSocket at /graphql (graphql-ws, subprotocol graphql-transport-ws), not over HTTP.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        },
      };
    },
  };
}
