import type { Logger, Redis } from '@gtm/runtime';
import { z } from 'zod';

/** One conversation event as the conversation service publishes it (its conversation-events.ts). */
export interface ConversationEventMessage {
  id: string;
  tenantId: string;
  conversationId: string;
  type: string;
  messageId: string | null;
  state: string | null;
  intent: string | null;
  at: string;
}

const messageSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  conversationId: z.string(),
  type: z.string(),
  messageId: z.string().nullable(),
  state: z.string().nullable(),
  intent: z.string().nullable(),
  at: z.string(),
});

export type ConversationEventListener = (event: ConversationEventMessage) => void;

export interface ConversationEventFeed {
  /** Listens to a tenant's conversation events; resolves once Redis confirmed, with the function that stops listening. */
  follow(tenantId: string, listener: ConversationEventListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * One Redis subscriber connection per gateway process for every conversationEvents subscription: a
 * tenant's channel (`<prefix>conversation-events:<tenantId>`, the conversation service's naming) is
 * subscribed while one of its subscriptions is open. Pub/sub is live only: events published while
 * the connection was down are gone, and the conversation itself stays the record to re-read.
 */
export function createConversationEventFeed(options: { redis: Redis; logger: Logger }): ConversationEventFeed {
  const { redis, logger } = options;
  const prefix = `${redis.options.keyPrefix ?? ''}conversation-events:`;
  const subscriber = redis.duplicate();
  const tenants = new Map<string, { listeners: Set<ConversationEventListener>; settled: Promise<void> }>();
  let connecting: Promise<void> | null = null;

  subscriber.on('message', (channel: string, text: string) => {
    if (!channel.startsWith(prefix)) return;
    const tenantId = channel.slice(prefix.length);
    let parsed: ConversationEventMessage;
    try {
      const result = messageSchema.safeParse(JSON.parse(text));
      if (!result.success || result.data.tenantId !== tenantId) return;
      parsed = result.data;
    } catch {
      return;
    }
    for (const listener of tenants.get(tenantId)?.listeners ?? []) {
      try {
        listener(parsed);
      } catch (error) {
        logger.error({ err: error }, 'a conversation event listener failed');
      }
    }
  });
  subscriber.on('error', (error: unknown) => logger.warn({ err: error }, 'conversation events subscriber: Redis error'));
  const connect = () =>
    (connecting ??= subscriber.connect().catch((error: unknown) => {
      connecting = null;
      throw error;
    }));

  return {
    async follow(tenantId, listener) {
      await connect();
      let entry = tenants.get(tenantId);
      const first = !entry;
      if (!entry) {
        entry = { listeners: new Set(), settled: Promise.resolve() };
        tenants.set(tenantId, entry);
      }
      entry.listeners.add(listener);
      const current = entry;
      if (first) current.settled = current.settled.then(() => subscriber.subscribe(`${prefix}${tenantId}`)).then(() => undefined);
      await current.settled;
      let stopped = false;
      return async () => {
        if (stopped) return;
        stopped = true;
        current.listeners.delete(listener);
        if (current.listeners.size > 0) return;
        tenants.delete(tenantId);
        current.settled = current.settled
          .then(() => subscriber.unsubscribe(`${prefix}${tenantId}`))
          .then(() => undefined)
          .catch((error: unknown) => logger.warn({ err: error }, 'could not unsubscribe from conversation events'));
        await current.settled;
      };
    },
    async close() {
      if (connecting) await subscriber.quit().catch(() => subscriber.disconnect());
      else subscriber.disconnect();
    },
  };
}
