import type { EntityManager, Logger } from '@gtm/runtime';
import type { DomainEvent, EventData, EventDefinition } from './event-definition.js';

/** What a handler is given besides the event. */
export interface EventHandlerContext {
  /**
   * Scoped to the event's tenant and inside the transaction that records the event as processed:
   * what the handler writes with it commits together with that record, or not at all.
   */
  em: EntityManager;
  /** Carries the event's id, name, tenant and the request id that caused it. */
  logger: Logger;
  /** 1 on the first delivery, 2 on the first retry, … */
  attempt: number;
  /** Aborts when the consumer stops while the handler runs; the event is then handled again later. */
  signal: AbortSignal;
}

/** A consuming service's reaction to one event definition. */
export interface Subscription<Definition extends EventDefinition = EventDefinition> {
  definition: Definition;
  /**
   * Handles one event. Throwing rolls back what it wrote and retries later with backoff; an error
   * with `isRetryable === false` (or the last attempt's) parks the event as a dead letter.
   * Handlers should be quick: a slow reaction submits a job (libs/jobs) with `em`, in the same
   * transaction.
   */
  handle(event: DomainEvent<EventData<Definition>>, context: EventHandlerContext): Promise<void>;
}

/** Subscribes to one event definition; pass the result to `startEventConsumer`. */
export function subscribe<Definition extends EventDefinition>(
  definition: Definition,
  handle: (event: DomainEvent<EventData<Definition>>, context: EventHandlerContext) => Promise<void>,
): Subscription<Definition> {
  return { definition, handle };
}

/** Subscriptions of different definitions in one list: each keeps its own pairing of definition and handler. */
export type AnySubscription = Subscription<any>;
