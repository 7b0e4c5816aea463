import { randomUUID } from 'node:crypto';
import type { Logger, Redis } from '@gtm/runtime';
import { registerEnumType } from 'type-graphql';

/** What happened in a conversation, as `Subscription.conversationEvents` delivers it. */
export enum ConversationEventType {
  MESSAGE_SENT = 'MESSAGE_SENT',
  MESSAGE_FAILED = 'MESSAGE_FAILED',
  REPLY_RECEIVED = 'REPLY_RECEIVED',
  INTENT_CLASSIFIED = 'INTENT_CLASSIFIED',
  STATE_CHANGED = 'STATE_CHANGED',
  DRAFT_READY = 'DRAFT_READY',
  DRAFT_REJECTED = 'DRAFT_REJECTED',
}

registerEnumType(ConversationEventType, { name: 'ConversationEventType', description: 'What happened in a conversation.' });

/** One event on the wire (Redis pub/sub), read by the gateway. */
export interface ConversationEventPayload {
  id: string;
  tenantId: string;
  conversationId: string;
  type: ConversationEventType;
  messageId: string | null;
  state: string | null;
  intent: string | null;
  at: string;
}

/**
 * The channel a tenant's conversation events are published on. ioredis prefixes keys but not
 * channels, so the prefix is added here, as job progress does: gateway and services agree.
 */
export function conversationEventsChannel(keyPrefix: string, tenantId: string): string {
  return `${keyPrefix}conversation-events:${tenantId}`;
}

/**
 * Publishes conversation events after the change they describe has committed. Live updates are a
 * view, never the record: a failed publish is logged and the conversation stays as it is.
 */
export class ConversationEvents {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async publish(event: Omit<ConversationEventPayload, 'id' | 'at' | 'messageId' | 'state' | 'intent'> & Partial<Pick<ConversationEventPayload, 'messageId' | 'state' | 'intent'>>): Promise<void> {
    const payload: ConversationEventPayload = { id: randomUUID(), messageId: null, state: null, intent: null, ...event, at: new Date().toISOString() };
    try {
      await this.redis.publish(conversationEventsChannel(this.redis.options.keyPrefix ?? '', event.tenantId), JSON.stringify(payload));
    } catch (error) {
      this.logger.warn({ err: error, conversationId: event.conversationId, type: event.type }, 'could not publish a conversation event');
    }
  }
}
