import type { CallerContext } from '@gtm/caller';
import { LRUCache } from 'lru-cache';
import type { TierLimitTable } from './rate-limit.config.js';
import { dayMilliseconds, minuteMilliseconds, windowPosition, type RateLimitDecision } from './rate-limiter.js';

export interface LocalRateLimiterOptions {
  limits: TierLimitTable;
  /** API keys followed at once; the least recently seen go first. Default: 100 000. */
  maximumKeys?: number;
  /** The clock, in milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
}

export interface LocalRateLimiter {
  /** Counts a request the shared (Redis) limiter admitted, so this process knows its share of each window. */
  record(caller: CallerContext): void;
  /** Decides as the shared limiter would, from this process's counts: check, then count if admitted. */
  consume(caller: CallerContext): RateLimitDecision;
}

/** Windows are per API key, as in Redis; a development caller without a key counts against its tenant. */
function keyOf(caller: CallerContext): string {
  return `${caller.tenantId}:${caller.keyId ?? 'tenant'}`;
}

interface Counts {
  minuteLabel: string;
  minute: number;
  dayLabel: string;
  day: number;
}

/**
 * The same fixed windows as the Redis limiter, counted in this process only: what holds while Redis
 * is away. It counts every request Redis admitted as well, so when Redis goes away mid-minute a key
 * does not start that minute over. With several gateway processes each counts its own requests, so
 * a key may get up to that many times its limit: an approximation, never unlimited. Memory is
 * bounded by `maximumKeys` (an entry is a few dozen bytes).
 */
export function createLocalRateLimiter(options: LocalRateLimiterOptions): LocalRateLimiter {
  const now = options.now ?? Date.now;
  const counts = new LRUCache<string, Counts>({ max: options.maximumKeys ?? 100_000 });

  /** This process's counts of the caller's current windows (a window that has passed counts zero). */
  const currentCounts = (caller: CallerContext, at: number) => {
    const minute = windowPosition(at, minuteMilliseconds);
    const day = windowPosition(at, dayMilliseconds);
    const stored = counts.get(keyOf(caller));
    const current: Counts = {
      minuteLabel: minute.label,
      minute: stored?.minuteLabel === minute.label ? stored.minute : 0,
      dayLabel: day.label,
      day: stored?.dayLabel === day.label ? stored.day : 0,
    };
    return { current, minute, day };
  };

  return {
    record(caller) {
      const { current } = currentCounts(caller, now());
      counts.set(keyOf(caller), { ...current, minute: current.minute + 1, day: current.day + 1 });
    },
    consume(caller) {
      const limits = options.limits[caller.tier];
      const { current, minute, day } = currentCounts(caller, now());
      // As the Redis script: the day first, since waiting for the minute would not help then.
      if (current.day + 1 > limits.perDay) return { allowed: false, limit: limits.perDay, remaining: 0, resetSeconds: day.resetSeconds, window: 'day' };
      if (current.minute + 1 > limits.perMinute) return { allowed: false, limit: limits.perMinute, remaining: 0, resetSeconds: minute.resetSeconds, window: 'minute' };
      const used = { ...current, minute: current.minute + 1, day: current.day + 1 };
      counts.set(keyOf(caller), used);
      const minuteRemaining = limits.perMinute - used.minute;
      const dayRemaining = limits.perDay - used.day;
      return dayRemaining <= minuteRemaining
        ? { allowed: true, limit: limits.perDay, remaining: dayRemaining, resetSeconds: day.resetSeconds, window: 'day' }
        : { allowed: true, limit: limits.perMinute, remaining: minuteRemaining, resetSeconds: minute.resetSeconds, window: 'minute' };
    },
  };
}
