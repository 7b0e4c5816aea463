import type { Answer, Mode, Tally } from './llm.answer.js';
import type { LlmCache, LlmCacheLock } from './llm.cache.js';
import type { LlmFailover } from './llm.failover.js';
import type { LlmMetering } from './llm.metering.js';
import type { LlmMetrics } from './llm.metrics.js';

export interface CachedAnswersOptions {
  /** Absent when the cache is off: every call goes to the providers. */
  cache?: LlmCache;
  failover: LlmFailover;
  metrics: LlmMetrics;
  metering: LlmMetering;
}

/**
 * Answers from the cache when it has one, else from the providers, once across processes: the
 * process holding a call's lock asks, the others wait for the answer it stores.
 */
export function createCachedAnswers(options: CachedAnswersOptions) {
  const { cache, failover, metrics, metering } = options;

  /** The providers' answer, stored in the cache (and the lock released in the same round trip) when a remote provider gave it. */
  const fresh = async <Value>(mode: Mode<Value>, tally: Tally, signal: AbortSignal, lock?: LlmCacheLock): Promise<Answer<Value>> => {
    const { answer, slot } = await failover.answer(mode, tally, signal);
    if (cache && answer.cacheable !== undefined && !slot.provider.local) {
      const key = mode.cacheKey(slot.provider);
      await (lock ? lock.storeAndRelease(key, answer.cacheable) : cache.store(key, answer.cacheable));
    }
    return answer;
  };

  const fromCache = <Value>(mode: Mode<Value>, hit: { index: number; value: string }, started: number): Answer<Value> | undefined => {
    const slot = failover.remoteSlots[hit.index];
    const value = mode.decode(hit.value);
    if (!slot || value === undefined) return undefined;
    metrics.cacheLookup(mode.task.name, 'hit');
    metering.shared(mode.task, slot.provider.name, slot.provider.model, performance.now() - started);
    return { value, provider: slot.provider.name, model: slot.provider.model, firstAttemptValid: true, repaired: false, local: false, cached: true };
  };

  return {
    fresh,

    /** The cache, then (holding the cross-process lock, or after waiting for whoever holds it) the providers. */
    async answer<Value>(mode: Mode<Value>, tally: Tally, signal: AbortSignal): Promise<Answer<Value>> {
      if (!cache || failover.remoteSlots.length === 0) return fresh(mode, tally, signal);
      const started = performance.now();
      const keys = failover.remoteSlots.map((slot) => mode.cacheKey(slot.provider));
      const hit = await cache.lookup(keys);
      const cached = hit && fromCache(mode, hit, started);
      if (cached) return cached;
      metrics.cacheLookup(mode.task.name, 'miss');
      const lock = await cache.tryLock(mode.fingerprint);
      if (!lock) {
        // Another process is making this very call: its answer is cheaper than ours.
        const waited = await cache.waitForAnswer(keys, mode.fingerprint, signal);
        const answer = waited && fromCache(mode, waited, started);
        if (answer) return answer;
      }
      try {
        return await fresh(mode, tally, signal, lock);
      } finally {
        await lock?.release();
      }
    },
  };
}
