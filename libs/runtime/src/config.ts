import { z } from 'zod';

/** Raised when the environment does not describe a runnable service; names every bad variable. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
  }
}

/** PEM keys travel through environment variables with their newlines escaped as `\n`. */
export const pemSchema = z
  .string()
  .transform((value) => value.replace(/\\n/g, '\n').trim())
  .refine((value) => /^-----BEGIN [A-Z ]+-----\n[\s\S]+\n-----END [A-Z ]+-----$/.test(value), 'must be a PEM-encoded key');

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const postgresUrlSchema = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\//.test(value) && URL.canParse(value), 'must be a postgres:// URL');

export const redisUrlSchema = z
  .string()
  .refine((value) => /^rediss?:\/\//.test(value) && URL.canParse(value), 'must be a redis:// URL');

/**
 * The key secrets are encrypted with at rest (libs/secrets): base64 of 32 random bytes, or several
 * separated by commas during a rotation (the first seals, all open). `npm start` makes one in
 * `.data/secrets-key`; `openssl rand -base64 32` makes one for a deployment.
 */
export const secretsKeySchema = z
  .string()
  .refine(
    (value) => value.split(',').every((part) => Buffer.from(part.trim(), 'base64').length === 32),
    'must be base64 of 32 random bytes (openssl rand -base64 32), or several separated by commas',
  );

export const portSchema = z.coerce.number().int().min(0).max(65535);

/**
 * `CONTENT_FETCH_ALLOWLIST`: comma-separated `host` or `host:port` entries that may be fetched even
 * though they are private or loopback (local fixture sites, an internal staging site). The content
 * service fetches them; the campaign service accepts them as campaign websites. Default: none.
 */
export const fetchAllowlistSchema = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
  .pipe(
    z.array(
      z.string().regex(/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i, 'entries must be `host` or `host:port`, such as localhost:8080 or staging.internal'),
    ),
  );

/**
 * Prefix of every Redis key and channel a process uses (rate limits, the LLM usage stream, job
 * progress). The gateway and every service must use the same one. Default: none.
 */
export const redisKeyPrefixSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9:_-]*$/, 'may hold only letters, digits, colons, dashes and underscores')
  .default('');

/** Settings every subgraph shares; each app extends them with its own in its config.ts. */
export const subgraphEnvironmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: postgresUrlSchema,
  /** Connections per service process. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  REDIS_URL: redisUrlSchema,
  REDIS_KEY_PREFIX: redisKeyPrefixSchema,
  /** The gateway's public key: subgraphs verify caller tokens with it and can never mint one. */
  CALLER_TOKEN_PUBLIC_KEY: pemSchema,
  /** Encrypts credentials, passwords and webhook secrets at rest. */
  SECRETS_KEY: secretsKeySchema,
  LOG_LEVEL: logLevelSchema,
  /** How long a shutdown waits for in-flight requests before closing connections. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
});

export type SubgraphEnvironment = z.infer<typeof subgraphEnvironmentSchema>;

/** Settings of a subgraph that runs background jobs (libs/jobs); its config.ts spreads them in. */
export const jobWorkerEnvironmentSchema = z.object({
  /** Jobs this process runs at once; 0 runs none here (another process of the service runs them). Default: 2. */
  JOB_WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(32).default(2),
});

/**
 * Parses an environment against a schema. The one place that turns variables into typed settings;
 * an app's config.ts is the only caller that passes `process.env`.
 */
export function parseEnvironment<Schema extends z.ZodType>(schema: Schema, environment: Record<string, string | undefined>): z.infer<Schema> {
  // An empty variable means "not set": `FOO=` in a shell or compose file should fall back to the default.
  const cleaned = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigurationError(
    result.error.issues.map((issue) => {
      const variable = issue.path.join('.') || '(environment)';
      const message = issue.code === 'invalid_type' && cleaned[variable] === undefined ? 'is required but not set' : issue.message;
      return `${variable} ${message}`;
    }),
  );
}
