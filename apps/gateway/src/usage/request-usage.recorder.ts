import type { Database, Logger } from '@gtm/runtime';
import { RequestUsage } from './usage.entity.js';

export interface RequestUsageRecord {
  tenantId: string;
  apiKeyId: string;
  requestId: string;
  operationName: string | null;
  operationType: string | null;
  outcome: string;
  httpStatus: number;
  durationMs: number;
  at: Date;
}

export interface CreateRequestUsageRecorderOptions {
  database: Database;
  logger: Logger;
  /** How often buffered records are written. Default: 1000 ms. */
  flushIntervalMs?: number;
  /** A buffer this full is written at once. Default: 500. */
  batchSize?: number;
  /**
   * Most records kept while PostgreSQL cannot take them; beyond it the oldest are dropped (and
   * counted in a warning) so an outage cannot grow the gateway's memory without bound. Default: 50 000.
   */
  maximumBuffered?: number;
}

export interface RequestUsageRecorder {
  record(usage: RequestUsageRecord): void;
  /** Writes everything buffered so far; the usage query calls it to read its own writes. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  close(): Promise<void>;
}

/**
 * Buffers request records and writes them in batches: one INSERT per second instead of one per
 * request keeps metering off the request's critical path (docs/BENCHMARKS.md measures it).
 */
export function createRequestUsageRecorder(options: CreateRequestUsageRecorderOptions): RequestUsageRecorder {
  const batchSize = options.batchSize ?? 500;
  const maximumBuffered = options.maximumBuffered ?? 50_000;
  let buffer: RequestUsageRecord[] = [];
  let dropped = 0;
  let writing: Promise<void> = Promise.resolve();

  const writeBuffered = async (): Promise<void> => {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      try {
        await options.database.orm.em.fork().insertMany(RequestUsage, batch.map((usage) => ({ ...usage, id: crypto.randomUUID() })));
        buffer = buffer.slice(batch.length);
        dropped = 0;
      } catch (error) {
        // Kept for the next flush: PostgreSQL being away for a moment must not lose usage.
        options.logger.warn({ err: error, buffered: buffer.length }, 'could not write request usage; will retry');
        return;
      }
    }
  };

  // Flushes run one after another, so two never insert the same batch.
  const flush = (): Promise<void> => {
    writing = writing.then(writeBuffered);
    return writing;
  };

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1_000);
  timer.unref();

  return {
    record(usage) {
      buffer.push(usage);
      if (buffer.length > maximumBuffered) {
        const excess = buffer.length - maximumBuffered;
        buffer = buffer.slice(excess);
        // One line when dropping starts, not one per request.
        if (dropped === 0) options.logger.error({ maximumBuffered }, 'request usage is being dropped: PostgreSQL has not accepted it for too long');
        dropped += excess;
      }
      if (buffer.length >= batchSize) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
