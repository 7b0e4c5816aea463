// What `npm start` reads from the environment: the only place the start tooling does. The values
// are checked with the services' own zod schemas (@gtm/runtime/config), so a setting means the same
// here as in the service that receives it; every service checks its whole config again at start.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallerKeyPair } from '@gtm/caller';
import { logLevelSchema, parseEnvironment, pemSchema, portSchema, postgresUrlSchema, redisUrlSchema } from '@gtm/runtime/config';
import { z } from 'zod';

export const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));

const startEnvironmentSchema = z
  .object({
    /** Default: none, so an embedded PostgreSQL is started. */
    DATABASE_URL: postgresUrlSchema.optional(),
    /** Default: none, so redis-server from PATH is started. */
    REDIS_URL: redisUrlSchema.optional(),
    GATEWAY_PORT: portSchema.default(4000),
    GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
    /** The services' log level. Default: `warn`, so the banner stays readable. */
    LOG_LEVEL: logLevelSchema.unwrap().optional(),
    /** Both or neither. Default: the pair kept in the data directory. */
    CALLER_TOKEN_PRIVATE_KEY: pemSchema.optional(),
    CALLER_TOKEN_PUBLIC_KEY: pemSchema.optional(),
    /** The at-rest encryption key handed to every service. Default: the one kept in the data directory. */
    SECRETS_KEY: z.string().min(1).optional(),
    /** Where `npm start` keeps what it makes. Default: `.data` in the workspace. */
    DATA_DIR: z.string().min(1).optional(),
  })
  .refine((environment) => Boolean(environment.CALLER_TOKEN_PRIVATE_KEY) === Boolean(environment.CALLER_TOKEN_PUBLIC_KEY), {
    message: 'and CALLER_TOKEN_PUBLIC_KEY must be set together (or neither)',
    path: ['CALLER_TOKEN_PRIVATE_KEY'],
  });

export interface StartSettings {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  gatewayPort: number;
  gatewayHost: string;
  logLevel: string;
  logLevelWasSet: boolean;
  callerKeys: CallerKeyPair | undefined;
  secretsKey: string | undefined;
  dataDirectory: string;
}

/** Throws a ConfigurationError naming every bad variable. */
export function readStartSettings(environment: Record<string, string | undefined>): StartSettings {
  const parsed = parseEnvironment(startEnvironmentSchema, environment);
  return {
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    gatewayPort: parsed.GATEWAY_PORT,
    gatewayHost: parsed.GATEWAY_HOST,
    logLevel: parsed.LOG_LEVEL ?? 'warn',
    logLevelWasSet: parsed.LOG_LEVEL !== undefined,
    callerKeys:
      parsed.CALLER_TOKEN_PRIVATE_KEY && parsed.CALLER_TOKEN_PUBLIC_KEY
        ? { privateKeyPem: parsed.CALLER_TOKEN_PRIVATE_KEY, publicKeyPem: parsed.CALLER_TOKEN_PUBLIC_KEY }
        : undefined,
    secretsKey: parsed.SECRETS_KEY,
    dataDirectory: dataDirectoryOf(environment),
  };
}

/** The data directory alone, for the tools that only need to find it (`npm run apikey`). */
export function dataDirectoryOf(environment: Record<string, string | undefined>): string {
  const configured = environment['DATA_DIR']?.trim();
  return configured ? resolve(configured) : join(workspaceRoot, '.data');
}

/** Variables `npm start` sets for the services; every other one (model keys…) passes through. */
export const controlledVariables = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'REDIS_URL',
  'CALLER_TOKEN_PRIVATE_KEY',
  'CALLER_TOKEN_PUBLIC_KEY',
  'SECRETS_KEY',
  'MAIL_HOST_ALLOWLIST',
  'LOG_LEVEL',
  'GATEWAY_PORT',
  'GATEWAY_HOST',
  'GRAPHIQL_DEFAULT_API_KEY',
  'CAMPAIGN_SERVICE_URL',
  'CONTENT_SERVICE_URL',
  'ENRICHMENT_SERVICE_URL',
  'CRM_SERVICE_URL',
  'CONVERSATION_SERVICE_URL',
  'DATA_DIR',
];

export function passedThrough(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !controlledVariables.includes(name)));
}
