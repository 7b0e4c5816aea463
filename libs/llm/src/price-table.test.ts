import { expect, test } from '@jest/globals';
import { costOf, defaultLlmPrices, findPrice } from './price-table.js';

test('a dated snapshot takes its family price, but a different model never does', () => {
  expect(findPrice(defaultLlmPrices, 'gpt-5-mini-2025-08-07')).toEqual(defaultLlmPrices['gpt-5-mini']);
  expect(findPrice(defaultLlmPrices, 'claude-haiku-4-5-20251001')).toEqual(defaultLlmPrices['claude-haiku-4-5']);
  expect(findPrice(defaultLlmPrices, 'gpt-5')).toEqual({ inputPerMillion: 1.25, outputPerMillion: 10 });
  // `gpt-5` must not price `gpt-5.4-mini` or `gpt-5-codex`: unknown models have no price.
  expect(findPrice(defaultLlmPrices, 'gpt-5.4-mini')).toBeUndefined();
  expect(findPrice(defaultLlmPrices, 'gpt-5-codex')).toBeUndefined();
});

test('cost is tokens times the per-million price, without float drift', () => {
  expect(costOf({ inputPerMillion: 0.25, outputPerMillion: 2 }, { inputTokens: 1_000, outputTokens: 500 })).toBe(0.00125);
  expect(costOf({ inputPerMillion: 3, outputPerMillion: 15 }, { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(18);
  expect(costOf({ inputPerMillion: 0.1, outputPerMillion: 0.4 }, { inputTokens: 3, outputTokens: 7 })).toBe(0.0000031);
});
