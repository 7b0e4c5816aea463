import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType('RequestUsageSummary', { description: 'Requests made with the tenant’s API keys, refusals (429 …) included.' })
export class RequestUsageSummaryType {
  @Field(() => Int)
  total!: number;

  @Field(() => Int, { description: 'Answered without any error.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Answered with at least one error, rate-limited ones included.' })
  failed!: number;

  @Field(() => Int)
  rateLimited!: number;

  @Field(() => Float, { nullable: true, description: 'Null when there were no requests.' })
  averageDurationMs!: number | null;

  @Field(() => Float, { nullable: true })
  p95DurationMs!: number | null;
}

@ObjectType('OutcomeUsage')
export class OutcomeUsageType {
  @Field({ description: 'OK, or the error code the request ended with (RATE_LIMITED, BAD_USER_INPUT …).' })
  outcome!: string;

  @Field(() => Int)
  requests!: number;
}

@ObjectType('OperationUsage')
export class OperationUsageType {
  @Field(() => String, { nullable: true, description: 'As the client named it; null for anonymous operations.' })
  operationName!: string | null;

  @Field(() => String, { nullable: true, description: 'query, mutation or subscription; null when refused before parsing.' })
  operationType!: string | null;

  @Field(() => Int)
  requests!: number;

  @Field(() => Int)
  failed!: number;

  @Field(() => Float)
  averageDurationMs!: number;

  @Field(() => Float)
  p95DurationMs!: number;
}

@ObjectType('LlmModelUsage')
export class LlmModelUsageType {
  @Field({ description: 'The service that called the model (campaign, content …).' })
  service!: string;

  @Field({ description: 'openai, anthropic, openai-compatible or offline.' })
  provider!: string;

  @Field()
  model!: string;

  @Field(() => Int)
  calls!: number;

  @Field(() => Int, { description: 'Answered from the cache: no tokens paid for.' })
  cachedCalls!: number;

  @Field(() => Int)
  inputTokens!: number;

  @Field(() => Int)
  outputTokens!: number;

  @Field(() => Float, { description: 'Estimated from the price table in the LLM configuration.' })
  costUsd!: number;
}

@ObjectType('LlmUsageSummary')
export class LlmUsageSummaryType {
  @Field(() => Int)
  calls!: number;

  @Field(() => Int)
  cachedCalls!: number;

  @Field(() => Int)
  inputTokens!: number;

  @Field(() => Int)
  outputTokens!: number;

  @Field(() => Float)
  costUsd!: number;

  @Field(() => [LlmModelUsageType], { description: 'By service, provider and model, most expensive first.' })
  models!: LlmModelUsageType[];
}

@ObjectType('DailyUsage')
export class DailyUsageType {
  @Field({ description: 'The UTC day, YYYY-MM-DD.' })
  day!: string;

  @Field(() => Int)
  requests!: number;

  @Field(() => Int)
  llmCalls!: number;

  @Field(() => Float)
  llmCostUsd!: number;
}

@ObjectType('Usage', { description: 'What the caller’s tenant used between `from` (inclusive) and `to` (exclusive).' })
export class UsageType {
  @Field(() => Date)
  from!: Date;

  @Field(() => Date)
  to!: Date;

  /** Who asked: never a field, it scopes every field resolver below. */
  tenantId!: string;
}
