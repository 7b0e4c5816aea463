import type { LlmPrice, LlmUsage } from './llm.types.js';

export type LlmPriceTable = Record<string, LlmPrice>;

/**
 * List prices in USD per million tokens (standard tier, no batch or cache discounts), as the
 * providers published them. Prices change: override or extend with `LLM_PRICES` rather than
 * trusting this table for invoices. Dated snapshots (`gpt-5-mini-2025-08-07`,
 * `claude-sonnet-4-5-20250929`) use their family's price.
 */
export const defaultLlmPrices: LlmPriceTable = {
  'gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2 },
  'gpt-5-nano': { inputPerMillion: 0.05, outputPerMillion: 0.4 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  'claude-opus-4-1': { inputPerMillion: 15, outputPerMillion: 75 },
  'claude-opus-4': { inputPerMillion: 15, outputPerMillion: 75 },
  'claude-sonnet-4-5': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-sonnet-4': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-haiku-4-5': { inputPerMillion: 1, outputPerMillion: 5 },
  'claude-3-5-haiku': { inputPerMillion: 0.8, outputPerMillion: 4 },
};

// A dated snapshot: `-2025-08-07` (OpenAI) or `-20250929` (Anthropic), nothing else, so that
// `gpt-5` never prices `gpt-5-mini` or `gpt-5.4`.
const snapshotSuffix = /^-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/** The price of a model: its own entry, or that of the family a dated snapshot belongs to. */
export function findPrice(table: LlmPriceTable, model: string): LlmPrice | undefined {
  const exact = table[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const family of Object.keys(table)) {
    if (model.startsWith(family) && snapshotSuffix.test(model.slice(family.length)) && (!best || family.length > best.length)) best = family;
  }
  return best ? table[best] : undefined;
}

/** USD for the tokens, rounded to a billionth of a dollar so sums do not drift. */
export function costOf(price: LlmPrice, usage: LlmUsage): number {
  return Math.round(usage.inputTokens * price.inputPerMillion * 1_000 + usage.outputTokens * price.outputPerMillion * 1_000) / 1e9;
}
