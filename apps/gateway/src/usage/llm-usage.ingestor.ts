import { hostname } from 'node:os';
import { llmUsageEventSchema, llmUsageStreamKey, type Database, type Logger, type Redis } from '@gtm/runtime';
import { LlmUsage } from './usage.entity.js';

export interface CreateLlmUsageIngestorOptions {
  redis: Redis;
  database: Database;
  logger: Logger;
  /** How often the stream is read. Default: 1000 ms. */
  pollIntervalMs?: number;
  /** Entries read per round. Default: 500. */
  batchSize?: number;
  /**
   * An entry delivered to a gateway process that died before storing it is taken over by another
   * after this long. Default: 60 000 ms.
   */
  claimAfterMs?: number;
}

export interface LlmUsageIngestor {
  /** Stores everything the stream holds right now; the usage query calls it to read fresh data. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const consumerGroup = 'gateway';

type StreamEntries = Array<[id: string, fields: string[]]>;

/**
 * Moves the LLM calls services report (libs/runtime `createLlmUsageReporter`) from the Redis
 * stream into the gateway's `llm_usage` table. A consumer group shares the stream between gateway
 * processes; an entry is acknowledged only after its row is stored, and rows are keyed by the
 * call's id, so a redelivery after a crash is stored once (decision 0009).
 */
export function createLlmUsageIngestor(options: CreateLlmUsageIngestorOptions): LlmUsageIngestor {
  const { redis, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let groupReady = false;
  let closed = false;
  let round: Promise<void> = Promise.resolve();

  const ensureGroup = async () => {
    if (groupReady) return;
    try {
      await redis.xgroup('CREATE', llmUsageStreamKey, consumerGroup, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error;
    }
    groupReady = true;
  };

  const store = async (entries: StreamEntries): Promise<void> => {
    if (entries.length === 0) return;
    const rows = [];
    for (const [entryId, fields] of entries) {
      const payload = fields[fields.indexOf('event') + 1];
      const parsed = llmUsageEventSchema.safeParse(safeJson(payload));
      if (!parsed.success) {
        // A malformed entry can never become valid: acknowledged (below) and reported, not retried forever.
        logger.error({ entryId, issues: parsed.error.issues.slice(0, 3) }, 'skipping a malformed LLM usage report');
        continue;
      }
      const event = parsed.data;
      rows.push({ ...event, costUsd: event.costUsd.toFixed(8), at: new Date(event.at) });
    }
    if (rows.length > 0) {
      await options.database.orm.em.fork().createQueryBuilder(LlmUsage).insert(rows).onConflict('id').ignore().execute();
    }
    await redis.xack(llmUsageStreamKey, consumerGroup, ...entries.map(([entryId]) => entryId));
  };

  const readRound = async (): Promise<void> => {
    await ensureGroup();
    const claimed = (await redis.xautoclaim(llmUsageStreamKey, consumerGroup, consumer, options.claimAfterMs ?? 60_000, '0', 'COUNT', batchSize)) as [string, StreamEntries];
    await store(claimed[1].filter(([, fields]) => fields !== null));
    for (;;) {
      const answer = (await redis.xreadgroup('GROUP', consumerGroup, consumer, 'COUNT', batchSize, 'STREAMS', llmUsageStreamKey, '>')) as Array<[string, StreamEntries]> | null;
      const entries = answer?.[0]?.[1] ?? [];
      await store(entries);
      if (entries.length < batchSize) return;
    }
  };

  // Rounds run one after another, so drain() waits for a round already under way and then reads
  // again: what was reported before the call is stored when it returns.
  const nextRound = (): Promise<void> => {
    round = round.then(readRound).catch((error: unknown) => {
      if (error instanceof Error && error.message.includes('NOGROUP')) groupReady = false;
      logger.warn({ err: error }, 'could not ingest LLM usage; will retry');
    });
    return round;
  };

  const timer = setInterval(() => {
    if (!closed) void nextRound();
  }, options.pollIntervalMs ?? 1_000);
  timer.unref();

  return {
    drain: nextRound,
    async close() {
      closed = true;
      clearInterval(timer);
      await round;
    },
  };
}

function safeJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
