import { randomUUID } from 'node:crypto';
import type { TaskLabel, UpstreamResult } from './llm.answer.js';
import type { LlmLogger } from './llm.logger.js';
import type { LlmMetrics } from './llm.metrics.js';
import type { LlmAttribution, LlmPrice, LlmProvider, LlmUsageRecord } from './llm.types.js';
import { findPrice, type LlmPriceTable } from './price-table.js';

export interface LlmMeteringOptions {
  /** Called once per usage record; not awaited, and what it throws is logged. Default: none. */
  onUsage?: (record: LlmUsageRecord) => void | Promise<void>;
  prices: LlmPriceTable;
  logger: LlmLogger;
  metrics: LlmMetrics;
  /** Who the call in progress is for (the request that made it). */
  attributionOf(): LlmAttribution | undefined;
}

export type UsageDraft = Omit<LlmUsageRecord, 'id' | 'at' | 'attribution'>;

/**
 * What every call costs and whom it is for: the price of a model, one usage record per upstream
 * answer (valid or not) and per answer served without a model call, with the metrics beside them.
 */
export function createLlmMetering(options: LlmMeteringOptions) {
  const { logger, metrics } = options;
  const unpricedModels = new Set<string>();

  const record = (draft: UsageDraft): void => {
    if (!options.onUsage) return;
    const attribution = options.attributionOf();
    const full: LlmUsageRecord = { id: randomUUID(), at: new Date(), ...draft, ...(attribution ? { attribution } : {}) };
    const reportFailure = (error: unknown) =>
      logger.error({ task: draft.task, error: error instanceof Error ? error.message : String(error) }, 'LLM onUsage hook failed; the call itself succeeded');
    try {
      const pending = options.onUsage(full);
      if (pending && typeof pending.then === 'function') pending.then(undefined, reportFailure);
    } catch (error) {
      reportFailure(error);
    }
  };

  return {
    record,

    /** The price of a model: the table's, else the provider's own; unknown models cost 0 and are reported once. */
    priceOf(provider: LlmProvider, reportedModel: string): LlmPrice {
      const price = findPrice(options.prices, reportedModel) ?? findPrice(options.prices, provider.model) ?? provider.defaultPrice;
      if (price) return price;
      if (!unpricedModels.has(provider.model)) {
        unpricedModels.add(provider.model);
        logger.warn({ provider: provider.name, model: provider.model }, `LLM model ${provider.model} has no price; its cost is recorded as 0 (set LLM_PRICES)`);
      }
      return { inputPerMillion: 0, outputPerMillion: 0 };
    },

    /** An upstream call that returned: valid (`ok`) or not. */
    answered(provider: LlmProvider, task: TaskLabel, result: UpstreamResult, outcome: 'ok' | 'invalid_output'): void {
      const { response, latencyMs, costUsd } = result;
      metrics.upstreamCall({ task: task.name, provider: provider.name, model: provider.model, outcome }, latencyMs, response.usage, costUsd);
      record({ task: task.name, taskVersion: task.version, provider: provider.name, model: response.model || provider.model, ...response.usage, costUsd, latencyMs, cached: false, outcome });
    },

    /** An answer given without a model call (the cache's, or an identical call's in flight): free. */
    shared(task: TaskLabel, provider: string, model: string, latencyMs: number): void {
      record({ task: task.name, taskVersion: task.version, provider, model, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyMs, cached: true, outcome: 'ok' });
    },
  };
}

export type LlmMetering = ReturnType<typeof createLlmMetering>;
