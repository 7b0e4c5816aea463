import { z } from 'zod';

const setting = (defaultValue: number, minimum: number, maximum: number) => z.coerce.number().int().min(minimum).max(maximum).default(defaultValue);

/**
 * The WebSocket endpoint's limits, read from the environment: a fragment of the gateway schema,
 * merged into it by config.ts. The largest message a client may send is MAX_BODY_BYTES, as over HTTP.
 */
export const webSocketEnvironmentSchema = z.object({
  /** Operations (subscriptions, mostly) one WebSocket connection may run at once. Default 50. */
  MAX_SUBSCRIPTIONS_PER_CONNECTION: setting(50, 1, 10_000),
  /** WebSocket connections one API key may hold open, across every gateway process. Default 50. */
  MAX_CONNECTIONS_PER_KEY: setting(50, 1, 100_000),
  /** How often the gateway pings each WebSocket client; one that has not answered by the next ping is dropped. Default 12 000 ms. */
  WEBSOCKET_KEEP_ALIVE_MS: setting(12_000, 1_000, 300_000),
  /**
   * How long a subscription waits for Redis when the gateway loses it: back within this, the
   * subscription resumes from the job's current state; not, it ends with UPSTREAM_UNAVAILABLE (the
   * client subscribes again later). Default 30 000 ms.
   */
  SUBSCRIPTION_OUTAGE_GRACE_MS: setting(30_000, 1_000, 600_000),
});
