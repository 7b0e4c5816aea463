import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from './logger.js';
import type { Redis } from './redis.js';

/**
 * The Redis stream every service appends its LLM calls to and the gateway reads them from
 * (decision 0009). Not prefixed per service: it is the one channel between them.
 */
export const llmUsageStreamKey = 'gtm:usage:llm';

/** Roughly how many entries the stream keeps unread before Redis trims the oldest. */
const streamMaximumLength = 1_000_000;

/** One call to a model, as a service reports it for metering. */
export const llmUsageEventSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  apiKeyId: z.string().max(64).nullable(),
  requestId: z.string().max(128).nullable(),
  service: z.string().min(1).max(64),
  task: z.string().min(1).max(128),
  provider: z.string().min(1).max(64),
  model: z.string().min(1).max(128),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  latencyMs: z.number().min(0),
  cached: z.boolean(),
  outcome: z.string().min(1).max(32),
  at: z.iso.datetime(),
});

export type LlmUsageEvent = z.infer<typeof llmUsageEventSchema>;

/** Who a call was made for: the caller of the request, or the tenant of a background job. */
export interface LlmUsageAttribution {
  tenantId: string;
  keyId?: string | null;
  requestId?: string | null;
}

/** What the LLM layer knows about one call. */
export interface LlmCallMeasurement {
  /** Stable id of the call, so a report delivered twice is counted once. Default: a new UUID. */
  id?: string;
  task: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  cached: boolean;
  outcome: string;
  at?: Date;
}

export interface LlmUsageReporter {
  /** Appends one call to the usage stream. Never throws: metering must not fail the work it meters. */
  report(attribution: LlmUsageAttribution, call: LlmCallMeasurement): Promise<void>;
}

export interface CreateLlmUsageReporterOptions {
  redis: Redis;
  /** The service making the calls, as it appears in `usage.llm.models`. */
  service: string;
  logger: Logger;
}

/**
 * Reports LLM calls for metering. A service appends to a Redis stream instead of writing to the
 * gateway's tables (services never touch another service's tables), and the gateway ingests the
 * stream into its usage records.
 */
export function createLlmUsageReporter(options: CreateLlmUsageReporterOptions): LlmUsageReporter {
  // Calls reported while a write is on its way go out together, in one pipeline, once it is back:
  // a busy service (an enrichment job's thousands of calls) pays one round trip per batch instead
  // of one per call, and a quiet one still writes each call at once.
  let waiting: Array<{ event: LlmUsageEvent; done: () => void }> = [];
  let writing = false;
  const write = async () => {
    writing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      const pipeline = options.redis.pipeline();
      for (const { event } of batch) pipeline.xadd(llmUsageStreamKey, 'MAXLEN', '~', String(streamMaximumLength), '*', 'event', JSON.stringify(event));
      try {
        const results = (await pipeline.exec()) ?? [];
        results.forEach(([error], index) => {
          if (error) options.logger.error({ err: error, llmCallId: batch[index]!.event.id, task: batch[index]!.event.task }, 'could not report an LLM call for metering');
        });
      } catch (error) {
        for (const { event } of batch) options.logger.error({ err: error, llmCallId: event.id, task: event.task }, 'could not report an LLM call for metering');
      }
      for (const { done } of batch) done();
    }
    writing = false;
  };
  return {
    report(attribution, call) {
      const event: LlmUsageEvent = {
        id: call.id ?? randomUUID(),
        tenantId: attribution.tenantId,
        apiKeyId: attribution.keyId ?? null,
        requestId: attribution.requestId ?? null,
        service: options.service,
        task: call.task,
        provider: call.provider,
        model: call.model,
        inputTokens: call.inputTokens,
        outputTokens: call.outputTokens,
        costUsd: call.costUsd,
        latencyMs: call.latencyMs,
        cached: call.cached,
        outcome: call.outcome,
        at: (call.at ?? new Date()).toISOString(),
      };
      return new Promise<void>((resolve) => {
        waiting.push({ event, done: resolve });
        if (!writing) void write();
      });
    },
  };
}
