import { buildSubgraphSchema } from '@gtm/runtime';
import type { ContainerType } from 'type-graphql';
import type { GatewayContext } from './context.js';
import { ConversationEventResolver } from './conversation-events/conversation-event.resolver.js';
import { JobProgressResolver } from './job-progress/job-progress.resolver.js';
import { UsageResolver } from './usage/usage.resolver.js';

/**
 * The fields the gateway answers itself (usage, job progress, conversation events and their subscriptions), built as a
 * subgraph so they compose into the one supergraph and show in introspection and GraphiQL like
 * any other (decision 0010). It runs in the gateway's process, with no HTTP hop.
 */
export function buildGatewaySchema(container: ContainerType) {
  return buildSubgraphSchema<GatewayContext>({ resolvers: [UsageResolver, JobProgressResolver, ConversationEventResolver], container, pubSub: noPubSub });
}

// Subscriptions never run inside this schema: @apollo/gateway executes no subscription, so the
// gateway's WebSocket server runs them itself (websocket/graphql-websocket.ts). type-graphql still
// wants a PubSub to declare the field.
const noPubSub = {
  publish() {
    throw new Error('the gateway subgraph publishes nothing');
  },
  subscribe(): AsyncIterable<unknown> {
    throw new Error('subscriptions are run by the gateway’s WebSocket server');
  },
};
