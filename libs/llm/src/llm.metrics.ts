import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LlmUsage } from './llm.types.js';

/** Outcomes of one upstream call, a closed set so the label stays bounded. */
export type LlmCallOutcome = 'ok' | 'invalid_output' | 'refused' | 'rate_limited' | 'timeout' | 'provider_error' | 'aborted';

/**
 * Prometheus series of the LLM layer. Labels are bounded: providers and models come from
 * configuration (the configured model, not the dated snapshot a server reports), tasks from code.
 */
export interface LlmMetrics {
  upstreamCall(labels: { task: string; provider: string; model: string; outcome: LlmCallOutcome }, latencyMs: number, usage: LlmUsage, costUsd: number): void;
  cacheLookup(task: string, result: 'hit' | 'miss' | 'joined' | 'error'): void;
  failover(provider: string, reason: string): void;
  circuitState(provider: string, model: string, open: boolean): void;
}

function registered<Metric>(registry: Registry, name: string, create: () => Metric): Metric {
  // Several Llm instances (or a test's second one) may share a registry: reuse, never re-register.
  return (registry.getSingleMetric(name) as Metric | undefined) ?? create();
}

export function createLlmMetrics(registry: Registry): LlmMetrics {
  const registers = [registry];
  const calls = registered(
    registry,
    'llm_calls_total',
    () => new Counter({ name: 'llm_calls_total', help: 'Upstream LLM calls by task, provider, model and outcome.', labelNames: ['task', 'provider', 'model', 'outcome'], registers }),
  );
  const tokens = registered(
    registry,
    'llm_tokens_total',
    () => new Counter({ name: 'llm_tokens_total', help: 'Tokens billed by upstream LLM calls.', labelNames: ['task', 'provider', 'model', 'direction'], registers }),
  );
  const cost = registered(
    registry,
    'llm_cost_usd_total',
    () => new Counter({ name: 'llm_cost_usd_total', help: 'USD spent on upstream LLM calls, from the price table.', labelNames: ['task', 'provider', 'model'], registers }),
  );
  const latency = registered(
    registry,
    'llm_call_duration_seconds',
    () =>
      new Histogram({
        name: 'llm_call_duration_seconds',
        help: 'Duration of upstream LLM calls.',
        labelNames: ['provider', 'model', 'outcome'],
        buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
        registers,
      }),
  );
  const cache = registered(
    registry,
    'llm_cache_lookups_total',
    () => new Counter({ name: 'llm_cache_lookups_total', help: 'LLM cache lookups by result (joined: an identical call was in flight).', labelNames: ['task', 'result'], registers }),
  );
  const failovers = registered(
    registry,
    'llm_failovers_total',
    () => new Counter({ name: 'llm_failovers_total', help: 'Times a provider failed a call and the next provider was tried.', labelNames: ['provider', 'reason'], registers }),
  );
  const circuit = registered(
    registry,
    'llm_circuit_open',
    () => new Gauge({ name: 'llm_circuit_open', help: '1 while a provider circuit breaker is open or half-open.', labelNames: ['provider', 'model'], registers }),
  );

  return {
    upstreamCall({ task, provider, model, outcome }, latencyMs, usage, costUsd) {
      calls.inc({ task, provider, model, outcome });
      latency.observe({ provider, model, outcome }, latencyMs / 1000);
      if (usage.inputTokens > 0) tokens.inc({ task, provider, model, direction: 'input' }, usage.inputTokens);
      if (usage.outputTokens > 0) tokens.inc({ task, provider, model, direction: 'output' }, usage.outputTokens);
      if (costUsd > 0) cost.inc({ task, provider, model }, costUsd);
    },
    cacheLookup(task, result) {
      cache.inc({ task, result });
    },
    failover(provider, reason) {
      failovers.inc({ provider, reason });
    },
    circuitState(provider, model, open) {
      circuit.set({ provider, model }, open ? 1 : 0);
    },
  };
}

/** Used when no registry is given: the layer's code never branches on whether metrics exist. */
export const noLlmMetrics: LlmMetrics = {
  upstreamCall() {},
  cacheLookup() {},
  failover() {},
  circuitState() {},
};
