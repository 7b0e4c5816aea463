import { parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import type { z } from 'zod';

const contentEnvironmentSchema = subgraphEnvironmentSchema.extend({
  PORT: portSchema.default(4002),
});

export type ContentConfig = z.infer<typeof contentEnvironmentSchema>;

/** The only place the content service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ContentConfig {
  return parseEnvironment(contentEnvironmentSchema, environment);
}
