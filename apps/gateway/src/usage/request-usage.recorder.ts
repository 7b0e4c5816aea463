import type { Database, Logger } from '@gtm/runtime';
import { gatewaySchema } from '../api-key/api-key.registry.js';

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

// A batch is one statement with one parameter, the batch as JSON: the ORM's insertMany built its
// statement row by row, value by value, and showed in the gateway's CPU per request
// (docs/BENCHMARKS.md); PostgreSQL names each row.
const insertBatch = `
  insert into "${gatewaySchema}".request_usage (id, tenant_id, api_key_id, request_id, operation_name, operation_type, outcome, http_status, duration_ms, at)
  select gen_random_uuid(), usage.tenant_id, usage.api_key_id, usage.request_id, usage.operation_name, usage.operation_type, usage.outcome, usage.http_status, usage.duration_ms, usage.at
    from jsonb_to_recordset(?::jsonb) as usage (tenant_id uuid, api_key_id uuid, request_id text, operation_name text, operation_type text, outcome text, http_status smallint, duration_ms real, at timestamptz)`;

const asRow = (usage: RequestUsageRecord) => ({
  tenant_id: usage.tenantId,
  api_key_id: usage.apiKeyId,
  request_id: usage.requestId,
  operation_name: usage.operationName,
  operation_type: usage.operationType,
  outcome: usage.outcome,
  http_status: usage.httpStatus,
  duration_ms: usage.durationMs,
  at: usage.at,
});

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
        await options.database.orm.em.getConnection().execute(insertBatch, [JSON.stringify(batch.map(asRow))], 'run');
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
