import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { GatewayContext } from '../context.js';
import type { UsageService } from './usage.service.js';
import { DailyUsageType, LlmUsageSummaryType, OperationUsageType, OutcomeUsageType, RequestUsageSummaryType, UsageType } from './usage.type.js';

@Resolver(() => UsageType)
export class UsageResolver {
  constructor(private readonly usageService: UsageService) {}

  @Query(() => UsageType, { description: 'What your tenant used between `from` (inclusive) and `to` (exclusive), at most 366 days apart.' })
  async usage(@Arg('from', () => Date) from: Date, @Arg('to', () => Date) to: Date, @Ctx() context: GatewayContext): Promise<UsageType> {
    const window = await this.usageService.window(context.caller.tenantId, from, to);
    return Object.assign(new UsageType(), window);
  }

  @FieldResolver(() => RequestUsageSummaryType)
  requests(@Root() usage: UsageType) {
    return this.usageService.requests(usage);
  }

  @FieldResolver(() => [OutcomeUsageType], { description: 'Requests by outcome, most frequent first.' })
  outcomes(@Root() usage: UsageType) {
    return this.usageService.outcomes(usage);
  }

  @FieldResolver(() => [OperationUsageType], { description: 'Requests by operation, most frequent first (the top 100).' })
  operations(@Root() usage: UsageType) {
    return this.usageService.operations(usage);
  }

  @FieldResolver(() => LlmUsageSummaryType, { description: 'Model calls the services made for your tenant, and their estimated cost.' })
  llm(@Root() usage: UsageType) {
    return this.usageService.llm(usage);
  }

  @FieldResolver(() => [DailyUsageType], { description: 'Day by day (UTC), days without usage left out.' })
  days(@Root() usage: UsageType) {
    return this.usageService.days(usage);
  }
}
