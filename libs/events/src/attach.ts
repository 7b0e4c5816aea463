import type { SubgraphApp } from '@gtm/runtime';
import { startEventConsumer, type EventConsumer, type StartEventConsumerOptions } from './event-consumer.js';
import { startEventRelay, type EventRelay, type StartEventRelayOptions } from './event-relay.js';

/**
 * Starts the relay of a publishing service's outbox beside its started app, and returns the app
 * with a `close` that stops the relay first. A relay that cannot start closes the app.
 */
export async function attachEventRelay<App extends SubgraphApp>(
  app: App,
  options: Omit<StartEventRelayOptions, 'database' | 'logger'>,
): Promise<App & { eventRelay: EventRelay }> {
  let eventRelay: EventRelay;
  try {
    eventRelay = await startEventRelay({ ...options, database: app.database, logger: app.logger });
  } catch (error) {
    await app.close();
    throw error;
  }
  return {
    ...app,
    eventRelay,
    async close() {
      await eventRelay.close();
      await app.close();
    },
  };
}

/**
 * Starts a service's event subscriptions beside its started app, and returns the app with a
 * `close` that stops them first (a handler in flight is handed back before the database closes).
 */
export async function attachEventConsumer<App extends SubgraphApp>(
  app: App,
  options: Omit<StartEventConsumerOptions, 'database' | 'logger'>,
): Promise<App & { eventConsumer: EventConsumer }> {
  let eventConsumer: EventConsumer;
  try {
    eventConsumer = await startEventConsumer({ ...options, database: app.database, logger: app.logger });
  } catch (error) {
    await app.close();
    throw error;
  }
  return {
    ...app,
    eventConsumer,
    async close() {
      await eventConsumer.close();
      await app.close();
    },
  };
}
