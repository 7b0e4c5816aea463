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

/** What a batch handler is given besides its events: one tenant's, inside one transaction. */
export interface EventBatchHandlerContext {
  /**
   * Scoped to the tenant of every event of the batch and inside the transaction that records them
   * all as processed: what the handler writes commits together with those records, or not at all.
   */
  em: EntityManager;
  /** The tenant every event of the batch belongs to (a batch never mixes tenants). */
  tenantId: string;
  /** Carries the subscriber, the event's name and the tenant; log an event's id with what it did. */
  logger: Logger;
  /** 1 for a batch of first deliveries; a retried event comes alone, with its own attempt. */
  attempt: number;
  /** Aborts when the consumer stops while the handler runs; the batch is then handled again later. */
  signal: AbortSignal;
}

/**
 * A consuming service's reaction to many events of one definition at once, for a reaction that
 * writes the same kind of row for each event: one statement for the batch instead of one round
 * trip per event. Each entity appears at most once in a batch (its next event); its later events
 * come in a later batch, after this one's writes, so order per entity holds as for `subscribe`.
 */
export interface BatchSubscription<Definition extends EventDefinition = EventDefinition> {
  definition: Definition;
  /**
   * Handles the batch's events, in delivery order. Throwing rolls back the whole batch (and the
   * others of its transaction); its events are then handled again one at a time, so only the
   * failing one is retried with backoff or parked, and its entity's later events wait behind it.
   */
  handleBatch(events: Array<DomainEvent<EventData<Definition>>>, context: EventBatchHandlerContext): Promise<void>;
}

/**
 * Subscribes to one event definition with a batch handler: up to the consumer's `batchSize` events
 * of one tenant at a time (fewer when fewer wait). Same guarantees as `subscribe`: at least once,
 * in order per entity, each event recorded as processed in the batch's transaction.
 */
export function subscribeBatch<Definition extends EventDefinition>(
  definition: Definition,
  handleBatch: (events: Array<DomainEvent<EventData<Definition>>>, context: EventBatchHandlerContext) => Promise<void>,
): BatchSubscription<Definition> {
  return { definition, handleBatch };
}

/** Subscriptions of different definitions in one list: each keeps its own pairing of definition and handler. */
export type AnySubscription = Subscription<any> | BatchSubscription<any>;

export function isBatchSubscription(subscription: AnySubscription): subscription is BatchSubscription<any> {
  return 'handleBatch' in subscription;
}
