import { parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import type { z } from 'zod';

const crmEnvironmentSchema = subgraphEnvironmentSchema.extend({
  PORT: portSchema.default(4004),
});

export type CrmConfig = z.infer<typeof crmEnvironmentSchema>;

/** The only place the CRM service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): CrmConfig {
  return parseEnvironment(crmEnvironmentSchema, environment);
}
