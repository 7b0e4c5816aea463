// What the parts of the LLM layer hand each other while one call is answered.
import type { LlmProvider, LlmProviderResponse, LlmUsage } from './llm.types.js';
import type { ProviderPolicy } from './provider-policy.js';

/** A provider in the failover order, with its resilience policy. */
export interface ProviderSlot {
  provider: LlmProvider;
  /** Absent for local providers, which need no resilience. */
  policy?: ProviderPolicy;
}

/** What one request spent, across its attempts. */
export interface Tally {
  attempts: number;
  usage: LlmUsage;
  costUsd: number;
}

/** An answer, from a provider or the cache. */
export interface Answer<Value> {
  value: Value;
  provider: string;
  model: string;
  /** The value as the cache stores it; absent when it must not be cached. */
  cacheable?: string;
  firstAttemptValid: boolean;
  repaired: boolean;
  confidence?: number;
  local: boolean;
  cached: boolean;
}

/** One upstream call that returned. */
export interface UpstreamResult {
  response: LlmProviderResponse;
  latencyMs: number;
  costUsd: number;
}

/** The task a call is for, as metering and metrics label it. */
export interface TaskLabel {
  name: string;
  version: string;
}

/**
 * What differs between object and text calls: how one provider is asked, and how an answer is
 * keyed and read back from the cache. Failover, cache, single-flight and metering around it are
 * the same for both.
 */
export interface Mode<Value> {
  task: TaskLabel;
  /** The call without its provider: identical calls share one answer. */
  fingerprint: string;
  cacheKey(provider: LlmProvider): string;
  decode(cached: string): Value | undefined;
  attempt(slot: ProviderSlot, tally: Tally, signal: AbortSignal): Promise<Answer<Value>>;
}

export const emptyUsage = (): LlmUsage => ({ inputTokens: 0, outputTokens: 0 });

export const emptyTally = (): Tally => ({ attempts: 0, usage: emptyUsage(), costUsd: 0 });
