import type { Logger, Redis } from '@gtm/runtime';

export interface ConnectionLimiterOptions {
  /** Shared by every gateway process, so the limit holds across them. */
  redis: Redis;
  logger: Logger;
  /** Open WebSocket connections one API key may have, across all gateway processes. */
  maximumPerKey: number;
  /**
   * A connection not refreshed for this long counts no more (its gateway process died without
   * releasing it). Open connections are refreshed every third of it. Default: 90 000 ms.
   */
  staleAfterMs?: number;
  /** Prepended to every key (after the client's own prefix). Default: `websocket-connections:`. */
  keyPrefix?: string;
  /** The clock, in milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
}

export interface ConnectionLimiter {
  /** Takes one of the key's connection slots; false when all are taken. */
  acquire(keyId: string, connectionId: string): Promise<boolean>;
  release(keyId: string, connectionId: string): Promise<void>;
  /** Stops refreshing; connections still open are released. */
  close(): Promise<void>;
}

// Drops the slots of connections nobody refreshed (their process died), then takes one if any is
// free, in one step: two gateways can never both take the last slot.
// Reply: 1 when taken, 0 when the key has no free slot.
const acquireScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2] - ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

const acquireCommand = 'gtmWebSocketConnectionAcquire';

interface ConnectionLimiterCommands {
  [acquireCommand](key: string, connectionId: string, now: number, staleAfterMs: number, maximum: number): Promise<number>;
}

/**
 * Counts each API key's open WebSocket connections in Redis, one sorted set per key (connection
 * id → last refresh). A gateway refreshes its own connections; a crashed gateway's connections
 * age out. When Redis does not answer, each process counts its own connections of the key against
 * the same maximum (like rate limits).
 */
export function createConnectionLimiter(options: ConnectionLimiterOptions): ConnectionLimiter {
  const { logger, maximumPerKey } = options;
  const staleAfterMs = options.staleAfterMs ?? 90_000;
  const keyPrefix = options.keyPrefix ?? 'websocket-connections:';
  const now = options.now ?? Date.now;
  options.redis.defineCommand(acquireCommand, { numberOfKeys: 1, lua: acquireScript });
  const redis = options.redis as Redis & ConnectionLimiterCommands;
  const keyOf = (keyId: string) => `${keyPrefix}{${keyId}}`;
  /** This process's open connections, by key, for the refresh. */
  const open = new Map<string, Set<string>>();

  const refresh = async () => {
    const pipeline = redis.pipeline();
    for (const [keyId, connectionIds] of open) {
      for (const connectionId of connectionIds) pipeline.zadd(keyOf(keyId), now(), connectionId);
      pipeline.pexpire(keyOf(keyId), staleAfterMs);
    }
    await pipeline.exec();
  };
  const timer = setInterval(() => {
    refresh().catch((error: unknown) => logger.warn({ err: error }, 'could not refresh the WebSocket connection counts'));
  }, Math.max(1_000, Math.floor(staleAfterMs / 3)));
  timer.unref();

  const forget = (keyId: string, connectionId: string) => {
    const connectionIds = open.get(keyId);
    connectionIds?.delete(connectionId);
    if (connectionIds?.size === 0) open.delete(keyId);
  };

  return {
    async acquire(keyId, connectionId) {
      let taken: boolean;
      try {
        taken = (await redis[acquireCommand](keyOf(keyId), connectionId, now(), staleAfterMs, maximumPerKey)) === 1;
      } catch (error) {
        // Degrade, never open: this process's own connections of the key against the same maximum.
        taken = (open.get(keyId)?.size ?? 0) < maximumPerKey;
        logger.warn({ err: error }, 'WebSocket connections are counted per gateway process: Redis did not answer');
      }
      if (taken) open.set(keyId, (open.get(keyId) ?? new Set()).add(connectionId));
      return taken;
    },
    async release(keyId, connectionId) {
      forget(keyId, connectionId);
      await redis.zrem(keyOf(keyId), connectionId).catch((error: unknown) => logger.warn({ err: error }, 'could not release a WebSocket connection slot'));
    },
    async close() {
      clearInterval(timer);
      const pipeline = redis.pipeline();
      for (const [keyId, connectionIds] of open) pipeline.zrem(keyOf(keyId), ...connectionIds);
      open.clear();
      await pipeline.exec().catch(() => undefined);
    },
  };
}
