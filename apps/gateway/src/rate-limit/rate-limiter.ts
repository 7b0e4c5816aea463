import type { CallerContext } from '@gtm/caller';
import { createTurnWriteBatching, type Redis } from '@gtm/runtime';
import type { TierLimitTable } from './rate-limit.config.js';

export type RateLimitWindow = 'minute' | 'day';

/** The answer to one request (or one LLM operation) asking for room. */
export interface RateLimitDecision {
  allowed: boolean;
  /** The limit of `window`. */
  limit: number;
  /** What is left in `window` after this decision. */
  remaining: number;
  /** Whole seconds until `window` starts over (at least 1). */
  resetSeconds: number;
  /** The window that refused, or when allowed, the one closest to refusing. */
  window: RateLimitWindow;
}

export interface LlmBudgetStatus {
  limit: number;
  remaining: number;
  /** Whole seconds until the budget starts over at the next UTC midnight. */
  resetSeconds: number;
}

export interface RateLimiter {
  /** The per-tier table this limiter enforces. */
  readonly limits: TierLimitTable;
  /**
   * Counts one request against the caller's minute and day windows, both or neither. Rejects
   * when Redis cannot answer; the caller decides whether to fail open.
   */
  consume(caller: CallerContext): Promise<RateLimitDecision>;
  /** Takes `cost` LLM-backed operations from the tenant's daily budget, all or nothing. */
  consumeLlmBudget(caller: CallerContext, cost?: number): Promise<RateLimitDecision>;
  /** What is left of the tenant's daily LLM budget, without using any. */
  llmBudgetRemaining(caller: CallerContext): Promise<LlmBudgetStatus>;
}

export interface CreateRateLimiterOptions {
  /** A connected ioredis client. Shared with other users; the limiter only adds two commands. */
  redis: Redis;
  limits: TierLimitTable;
  /** Prepended to every key (after the connection's own prefix, if any). Default: `rate-limit:`. */
  keyPrefix?: string;
  /** The clock, in milliseconds since the epoch. Default: `Date.now`. Tests move it. */
  now?: () => number;
}

export const minuteMilliseconds = 60_000;
export const dayMilliseconds = 86_400_000;

// Keys outlive their window by this much, so a gateway whose clock runs slightly behind Redis's
// still finds the counter of the window it believes it is in, instead of starting a fresh one.
const clockSkewAllowanceSeconds = 60;

// Both windows are read, checked and only then incremented inside one script: Redis runs a script
// without interleaving any other command, so two gateway processes can never both see the last
// free slot, and a refused request leaves both counters untouched. The day is checked first
// because when both are full, waiting for the minute to reset would not help the client.
// Reply: { allowed (1|0), refusing window (0 none, 1 minute, 2 day), minute count, day count }.
const consumeRequestScript = `
local minuteLimit = tonumber(ARGV[1])
local dayLimit = tonumber(ARGV[2])
local cost = tonumber(ARGV[5])
local minuteUsed = tonumber(redis.call('GET', KEYS[1]) or '0')
local dayUsed = tonumber(redis.call('GET', KEYS[2]) or '0')
if dayUsed + cost > dayLimit then return { 0, 2, minuteUsed, dayUsed } end
if minuteUsed + cost > minuteLimit then return { 0, 1, minuteUsed, dayUsed } end
minuteUsed = redis.call('INCRBY', KEYS[1], cost)
if minuteUsed == cost then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
dayUsed = redis.call('INCRBY', KEYS[2], cost)
if dayUsed == cost then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return { 1, 0, minuteUsed, dayUsed }
`;

// The same check-then-increment for the single daily LLM counter. Reply: { allowed (1|0), count }.
const consumeBudgetScript = `
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + cost > limit then return { 0, used } end
used = redis.call('INCRBY', KEYS[1], cost)
if used == cost then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return { 1, used }
`;

// ioredis sends a defined command as EVALSHA and falls back to EVAL once after a NOSCRIPT, so the
// script text crosses the network only when Redis has not cached it yet.
const consumeRequestCommand = 'gtmRateLimitConsumeRequest';
const consumeBudgetCommand = 'gtmRateLimitConsumeBudget';

interface RateLimitCommands {
  [consumeRequestCommand](minuteKey: string, dayKey: string, ...argumentsList: number[]): Promise<[number, number, number, number]>;
  [consumeBudgetCommand](budgetKey: string, ...argumentsList: number[]): Promise<[number, number]>;
}

export interface WindowPosition {
  /** Identifies the window in its key: `2025-06-01T10:05` or `2025-06-01`. */
  label: string;
  resetSeconds: number;
  /** How long the key must live: the rest of the window plus the skew allowance. */
  keyLifetimeSeconds: number;
}

// The label of the window each length is in, kept until that window ends: every request asks for
// two, and formatting two dates per request showed in the gateway's profile. One entry per length.
const currentLabels = new Map<number, { start: number; label: string }>();

function labelOf(start: number, lengthMilliseconds: number): string {
  const current = currentLabels.get(lengthMilliseconds);
  if (current?.start === start) return current.label;
  const isoStart = new Date(start).toISOString();
  const label = lengthMilliseconds === dayMilliseconds ? isoStart.slice(0, 10) : isoStart.slice(0, 16);
  currentLabels.set(lengthMilliseconds, { start, label });
  return label;
}

export function windowPosition(nowMilliseconds: number, lengthMilliseconds: number): WindowPosition {
  // Unix time has no leap seconds, so multiples of the window length are UTC minute and day starts.
  const start = Math.floor(nowMilliseconds / lengthMilliseconds) * lengthMilliseconds;
  const resetSeconds = Math.max(1, Math.ceil((start + lengthMilliseconds - nowMilliseconds) / 1000));
  return {
    label: labelOf(start, lengthMilliseconds),
    resetSeconds,
    keyLifetimeSeconds: resetSeconds + clockSkewAllowanceSeconds,
  };
}

function assertCost(cost: number): void {
  if (!Number.isInteger(cost) || cost < 1) throw new RangeError(`an LLM budget cost must be a positive integer, got ${cost}`);
}

/** Fixed-window request limits per API key and a daily LLM budget per tenant, kept in Redis. */
export function createRateLimiter(options: CreateRateLimiterOptions): RateLimiter {
  const { limits } = options;
  const keyPrefix = options.keyPrefix ?? 'rate-limit:';
  const now = options.now ?? Date.now;
  const redis = options.redis as Redis & RateLimitCommands;
  redis.defineCommand(consumeRequestCommand, { numberOfKeys: 2, lua: consumeRequestScript });
  redis.defineCommand(consumeBudgetCommand, { numberOfKeys: 1, lua: consumeBudgetScript });
  // Every request sends one: those handled in the same turn of the event loop go in one write.
  const batchWritesOfThisTurn = createTurnWriteBatching(redis);

  // The `{tenant}` hash tag keeps every key of one tenant in one Redis Cluster slot, which a
  // script touching two keys requires. Request windows are per API key (a tenant's keys are
  // separate clients); a development caller without a key counts against its tenant.
  const requestKey = (caller: CallerContext, window: RateLimitWindow, label: string) =>
    `${keyPrefix}requests:{${caller.tenantId}}:${caller.keyId ?? 'tenant'}:${window}:${label}`;
  // The LLM budget bounds what a tenant costs, so it is per tenant: minting another API key must
  // not buy another day of LLM calls.
  const budgetKey = (caller: CallerContext, label: string) => `${keyPrefix}llm-budget:{${caller.tenantId}}:day:${label}`;

  return {
    limits,

    async consume(caller) {
      const tierLimits = limits[caller.tier];
      const at = now();
      const minute = windowPosition(at, minuteMilliseconds);
      const day = windowPosition(at, dayMilliseconds);
      batchWritesOfThisTurn();
      const [allowed, refusingWindow, minuteUsed, dayUsed] = await redis[consumeRequestCommand](
        requestKey(caller, 'minute', minute.label),
        requestKey(caller, 'day', day.label),
        tierLimits.perMinute,
        tierLimits.perDay,
        minute.keyLifetimeSeconds,
        day.keyLifetimeSeconds,
        1,
      );
      const minuteDecision: RateLimitDecision = {
        allowed: allowed === 1,
        limit: tierLimits.perMinute,
        remaining: Math.max(0, tierLimits.perMinute - minuteUsed),
        resetSeconds: minute.resetSeconds,
        window: 'minute',
      };
      const dayDecision: RateLimitDecision = {
        allowed: allowed === 1,
        limit: tierLimits.perDay,
        remaining: Math.max(0, tierLimits.perDay - dayUsed),
        resetSeconds: day.resetSeconds,
        window: 'day',
      };
      if (refusingWindow === 2) return { ...dayDecision, remaining: 0 };
      if (refusingWindow === 1) return { ...minuteDecision, remaining: 0 };
      // On a tie the day is the tighter one: once it runs out, the wait is the longer of the two.
      return dayDecision.remaining <= minuteDecision.remaining ? dayDecision : minuteDecision;
    },

    async consumeLlmBudget(caller, cost = 1) {
      assertCost(cost);
      const limit = limits[caller.tier].llmPerDay;
      const day = windowPosition(now(), dayMilliseconds);
      const [allowed, used] = await redis[consumeBudgetCommand](budgetKey(caller, day.label), limit, cost, day.keyLifetimeSeconds);
      return { allowed: allowed === 1, limit, remaining: Math.max(0, limit - used), resetSeconds: day.resetSeconds, window: 'day' };
    },

    async llmBudgetRemaining(caller) {
      const limit = limits[caller.tier].llmPerDay;
      const day = windowPosition(now(), dayMilliseconds);
      const used = Number((await redis.get(budgetKey(caller, day.label))) ?? 0);
      return { limit, remaining: Math.max(0, limit - used), resetSeconds: day.resetSeconds };
    },
  };
}
