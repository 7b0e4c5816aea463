import { z } from 'zod';

const limitSetting = (defaultValue: number, minimum: number, maximum: number) => z.coerce.number().int().min(minimum).max(maximum).default(defaultValue);

/**
 * The gateway's operation and request limits, read from the environment. A fragment of the gateway
 * schema: config.ts merges its shape into `gatewayEnvironmentSchema`, so these stay the only
 * names for these settings.
 */
export const operationLimitsEnvironmentSchema = z.object({
  /** Deepest field nesting an operation may have (top-level fields are level 1). Default 12. */
  MAX_QUERY_DEPTH: limitSetting(12, 1, 1_000),
  /** Aliased fields an operation may have, fragments expanded. 0 forbids aliases. Default 30. */
  MAX_ALIASES: limitSetting(30, 0, 10_000),
  /** Highest estimated cost of one operation (see operation-limits.rules.ts for the model). Default 5000. */
  MAX_QUERY_COST: limitSetting(5_000, 1, 100_000_000),
  /** Operations one batched HTTP request (a JSON array) may carry. Default 10. */
  MAX_BATCH_LENGTH: limitSetting(10, 1, 1_000),
  /** Largest request body, in bytes, after decompression. Default 1 048 576 (1 MiB). */
  MAX_BODY_BYTES: limitSetting(1_048_576, 1_024, 100 * 1_048_576),
});

export type OperationLimitsEnvironment = z.infer<typeof operationLimitsEnvironmentSchema>;

/** The limits in the words the rest of the gateway uses. */
export interface OperationLimits {
  maximumDepth: number;
  maximumAliases: number;
  maximumCost: number;
  maximumBatchLength: number;
  maximumBodyBytes: number;
}

/** Picks the limits out of the parsed gateway environment (or anything that contains the fragment). */
export function operationLimitsFrom(parsed: OperationLimitsEnvironment): OperationLimits {
  return {
    maximumDepth: parsed.MAX_QUERY_DEPTH,
    maximumAliases: parsed.MAX_ALIASES,
    maximumCost: parsed.MAX_QUERY_COST,
    maximumBatchLength: parsed.MAX_BATCH_LENGTH,
    maximumBodyBytes: parsed.MAX_BODY_BYTES,
  };
}
