import { parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import type { z } from 'zod';

const conversationEnvironmentSchema = subgraphEnvironmentSchema.extend({
  PORT: portSchema.default(4005),
});

export type ConversationConfig = z.infer<typeof conversationEnvironmentSchema>;

/** The only place the conversation service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ConversationConfig {
  return parseEnvironment(conversationEnvironmentSchema, environment);
}
