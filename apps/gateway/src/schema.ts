import { buildSubgraphSchema } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import type { GatewayContext } from './context.js';
import { UsageResolver } from './usage/usage.resolver.js';

/**
 * The fields the gateway answers itself (usage today; job progress with subscriptions), built as a
 * subgraph so they compose into the one supergraph and show in introspection and GraphiQL like
 * any other (decision 0010). It runs in the gateway's process, with no HTTP hop.
 */
export function buildGatewaySchema(container: ContainerType) {
  return buildSubgraphSchema<GatewayContext>({ resolvers: [UsageResolver], container });
}
