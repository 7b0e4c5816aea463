import { parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';

const allowlistEntry = z
  .string()
  .regex(/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i, 'entries must be `host` or `host:port`, such as localhost:8080 or staging.internal');

const contentEnvironmentSchema = subgraphEnvironmentSchema.extend({
  PORT: portSchema.default(4002),
  /**
   * Comma-separated `host` or `host:port` entries that may be fetched even though they resolve to
   * private or loopback addresses (local fixture sites, an internal staging site). Everything
   * else private stays refused. Default: none.
   */
  CONTENT_FETCH_ALLOWLIST: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(allowlistEntry)),
});

export type ContentConfig = z.infer<typeof contentEnvironmentSchema>;

/** The only place the content service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ContentConfig {
  return parseEnvironment(contentEnvironmentSchema, environment);
}
