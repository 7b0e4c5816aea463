import { parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import type { z } from 'zod';

const campaignEnvironmentSchema = subgraphEnvironmentSchema.extend({
  PORT: portSchema.default(4001),
});

export type CampaignConfig = z.infer<typeof campaignEnvironmentSchema>;

/** The only place the campaign service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): CampaignConfig {
  return parseEnvironment(campaignEnvironmentSchema, environment);
}
