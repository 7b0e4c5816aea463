import { parseInput } from '@gtm/runtime';
import { z } from 'zod';
import type { LlmUsageIngestor } from './llm-usage.ingestor.js';
import type { RequestUsageRecorder } from './request-usage.recorder.js';
import type { UsageRepository, UsageWindow } from './usage.repository.js';

const longestWindowDays = 366;

const windowSchema = z
  .object({ from: z.date({ message: 'must be a date-time' }), to: z.date({ message: 'must be a date-time' }) })
  .refine(({ from, to }) => from < to, { path: ['to'], message: 'must be after `from`' })
  .refine(({ from, to }) => to.getTime() - from.getTime() <= longestWindowDays * 86_400_000, {
    path: ['to'],
    message: `must be at most ${longestWindowDays} days after \`from\`; ask for a year at a time`,
  });

/** A tenant's usage: requests recorded by this gateway, LLM calls reported by the services. */
export class UsageService {
  constructor(
    private readonly repository: UsageRepository,
    private readonly recorder: RequestUsageRecorder,
    private readonly ingestor: LlmUsageIngestor,
  ) {}

  /** Validates the window and brings the records up to date, so a caller sees its own recent calls. */
  async window(tenantId: string, from: Date, to: Date): Promise<UsageWindow> {
    const window = parseInput(windowSchema, { from, to });
    await Promise.all([this.recorder.flush(), this.ingestor.drain()]);
    return { tenantId, ...window };
  }

  requests(window: UsageWindow) {
    return this.repository.requestTotals(window);
  }

  outcomes(window: UsageWindow) {
    return this.repository.outcomes(window);
  }

  operations(window: UsageWindow) {
    return this.repository.operations(window);
  }

  days(window: UsageWindow) {
    return this.repository.days(window);
  }

  async llm(window: UsageWindow) {
    const models = await this.repository.llmModels(window);
    const sum = (pick: (model: (typeof models)[number]) => number) => models.reduce((total, model) => total + pick(model), 0);
    return {
      calls: sum((model) => model.calls),
      cachedCalls: sum((model) => model.cachedCalls),
      inputTokens: sum((model) => model.inputTokens),
      outputTokens: sum((model) => model.outputTokens),
      // Summed in micro-dollars so float error does not creep into a bill.
      costUsd: Math.round(sum((model) => model.costUsd) * 1e8) / 1e8,
      models,
    };
  }
}
