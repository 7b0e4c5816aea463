import type { Tier } from '@gtm/caller';
import { z } from 'zod';

// Zero is allowed on purpose: it switches a tier off (for example no LLM operations on `free`)
// without a code change. The upper bound only catches a mistyped number.
const countPerWindow = (defaultValue: number) => z.coerce.number().int().min(0).max(1_000_000_000).default(defaultValue);

/**
 * The rate-limit settings of the gateway's environment. A fragment, merged into the gateway's
 * own schema in config.ts (`gatewayEnvironmentSchema.extend(rateLimitEnvironmentSchema.shape)`),
 * so config.ts stays the one place that reads `process.env`.
 */
export const rateLimitEnvironmentSchema = z.object({
  /** Requests per UTC minute for one API key of a free tenant. Default: 60. */
  RATE_LIMIT_FREE_PER_MINUTE: countPerWindow(60),
  /** Requests per UTC day for one API key of a free tenant. Default: 5 000. */
  RATE_LIMIT_FREE_PER_DAY: countPerWindow(5_000),
  /** Requests per UTC minute for one API key of a pro tenant. Default: 600. */
  RATE_LIMIT_PRO_PER_MINUTE: countPerWindow(600),
  /** Requests per UTC day for one API key of a pro tenant. Default: 100 000. */
  RATE_LIMIT_PRO_PER_DAY: countPerWindow(100_000),
  /** Requests per UTC minute for one API key of an enterprise tenant. Default: 3 000. */
  RATE_LIMIT_ENTERPRISE_PER_MINUTE: countPerWindow(3_000),
  /** Requests per UTC day for one API key of an enterprise tenant. Default: 1 000 000. */
  RATE_LIMIT_ENTERPRISE_PER_DAY: countPerWindow(1_000_000),
  /** LLM-backed operations per UTC day for a free tenant (all its keys together). Default: 50. */
  LLM_BUDGET_FREE_PER_DAY: countPerWindow(50),
  /** LLM-backed operations per UTC day for a pro tenant (all its keys together). Default: 2 000. */
  LLM_BUDGET_PRO_PER_DAY: countPerWindow(2_000),
  /** LLM-backed operations per UTC day for an enterprise tenant (all its keys together). Default: 20 000. */
  LLM_BUDGET_ENTERPRISE_PER_DAY: countPerWindow(20_000),
});

export type RateLimitEnvironment = z.infer<typeof rateLimitEnvironmentSchema>;

/** What one tier may do. */
export interface TierLimits {
  /** Requests per UTC minute, per API key. */
  perMinute: number;
  /** Requests per UTC day, per API key. */
  perDay: number;
  /** LLM-backed operations per UTC day, per tenant. */
  llmPerDay: number;
}

export type TierLimitTable = Record<Tier, TierLimits>;

/** The per-tier table the rate limiter works from, out of the parsed environment. */
export function tierLimitsFrom(environment: RateLimitEnvironment): TierLimitTable {
  return {
    free: {
      perMinute: environment.RATE_LIMIT_FREE_PER_MINUTE,
      perDay: environment.RATE_LIMIT_FREE_PER_DAY,
      llmPerDay: environment.LLM_BUDGET_FREE_PER_DAY,
    },
    pro: {
      perMinute: environment.RATE_LIMIT_PRO_PER_MINUTE,
      perDay: environment.RATE_LIMIT_PRO_PER_DAY,
      llmPerDay: environment.LLM_BUDGET_PRO_PER_DAY,
    },
    enterprise: {
      perMinute: environment.RATE_LIMIT_ENTERPRISE_PER_MINUTE,
      perDay: environment.RATE_LIMIT_ENTERPRISE_PER_DAY,
      llmPerDay: environment.LLM_BUDGET_ENTERPRISE_PER_DAY,
    },
  };
}
