import type { ApolloServerPlugin } from '@apollo/server';
import type { Scope } from '@gtm/caller';
import { forbidden } from '@gtm/runtime';
import type { GatewayContext } from '../context.js';

const requiredScope: Record<'query' | 'mutation' | 'subscription', Scope> = { query: 'read', subscription: 'read', mutation: 'write' };

/** Reading needs the `read` scope, changing anything needs `write`; `admin` implies both. */
export function useScopeEnforcement(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (!operation) return;
          const scope = requiredScope[operation.operation];
          const granted = contextValue.caller.scopes;
          if (granted.includes(scope) || granted.includes('admin')) return;
          throw forbidden(`Forbidden: this API key lacks the "${scope}" scope needed for a ${operation.operation}. Use a key created with --scopes ${scope}.`, {
            requiredScope: scope,
            http: { status: 403 },
          });
        },
      };
    },
  };
}
