import { badUserInput } from '@gtm/runtime';
import { Arg, Ctx, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { GatewayContext } from '../context.js';
import type { ConversationEventMessage } from './conversation-event.feed.js';
import { ConversationEventObject, ConversationEventType, ConversationState, ReplyIntent } from './conversation-event.type.js';

export function toConversationEvent(event: ConversationEventMessage): ConversationEventObject {
  return {
    id: event.id,
    type: event.type as ConversationEventType,
    at: new Date(event.at),
    state: (event.state as ConversationState | null) ?? null,
    intent: (event.intent as ReplyIntent | null) ?? null,
    conversation: { id: event.conversationId },
    message: event.messageId ? { id: event.messageId } : null,
  };
}

@Resolver(() => ConversationEventObject)
export class ConversationEventResolver {
  @Query(() => ConversationEventObject, {
    nullable: true,
    description: 'The event a `conversationEvents` subscription is delivering; null outside one. Subscribe to `Subscription.conversationEvents` to receive events.',
  })
  conversationEvents(@Arg('conversationId', () => ID, { nullable: true }) _conversationId: string | undefined, @Ctx() context: GatewayContext): ConversationEventObject | null {
    const carried = context.conversationEvent;
    return carried && carried.tenantId === context.caller.tenantId ? toConversationEvent(carried) : null;
  }

  @Subscription(() => ConversationEventObject, {
    name: 'conversationEvents',
    description:
      'Live conversation events over WebSocket (graphql-ws): new replies, intents, state changes, drafts ready, messages sent, for one conversation or (without conversationId) all of your tenant’s. A conversation of another tenant is NOT_FOUND.',
    // The gateway's WebSocket server runs subscriptions itself (websocket/graphql-websocket.ts);
    // this schema only declares the field so it composes into the supergraph.
    subscribe: () => {
      throw badUserInput('Subscriptions are served over WebSocket at /graphql (graphql-ws, subprotocol graphql-transport-ws).');
    },
  })
  conversationEventsSubscription(@Arg('conversationId', () => ID, { nullable: true }) _conversationId: string | undefined, @Root() event: ConversationEventObject): ConversationEventObject {
    return event;
  }
}
