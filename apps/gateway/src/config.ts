import { fileURLToPath } from 'node:url';
import { logLevelSchema, parseEnvironment, pemSchema, portSchema, postgresUrlSchema, redisKeyPrefixSchema, redisUrlSchema, secretsKeySchema } from '@gtm/runtime';
import { callerTokenMaxLifetimeSeconds } from '@gtm/caller';
import { z } from 'zod';
import { operationLimitsEnvironmentSchema } from './operation-limits/operation-limits.config.js';
import { rateLimitEnvironmentSchema } from './rate-limit/rate-limit.config.js';
import { webSocketEnvironmentSchema } from './websocket/websocket.config.js';

const subgraphUrl = (defaultPort: number) =>
  z
    .string()
    .refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s) URL of a subgraph GraphQL endpoint')
    .default(`http://127.0.0.1:${defaultPort}/graphql`);

const booleanFlag = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(defaultValue ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

const gatewayEnvironmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  GATEWAY_PORT: portSchema.default(4000),
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * How long an idle client connection is kept open. Longer than the idle timeout of the load
   * balancers in front (60 s on AWS ALB and most others), so a balancer never reuses a connection
   * the gateway is closing (a 502). Default: 65 000 ms.
   */
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(240_000).default(65_000),
  /** Holds the gateway's own schema: tenants and API keys. */
  DATABASE_URL: postgresUrlSchema,
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(5),
  REDIS_URL: redisUrlSchema,
  REDIS_KEY_PREFIX: redisKeyPrefixSchema,
  /**
   * Browser origins allowed to call /graphql from their pages (CORS), comma-separated, such as
   * `https://app.example.com,http://localhost:5173`. Default: none, so only same-origin pages
   * (GraphiQL) and non-browser clients can call.
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((origin) => /^https?:\/\/[^/]+$/.test(origin) && URL.canParse(origin), 'must list origins such as https://app.example.com (scheme and host, no path)'))),
  /** How long an API key lookup is reused; a revoked key stops working within this. */
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(5_000).default(4_000),
  /** Development only: a key GraphiQL puts in its header editor (npm start sets it). */
  GRAPHIQL_DEFAULT_API_KEY: z.string().max(200).optional(),
  CAMPAIGN_SERVICE_URL: subgraphUrl(4001),
  CONTENT_SERVICE_URL: subgraphUrl(4002),
  ENRICHMENT_SERVICE_URL: subgraphUrl(4003),
  CRM_SERVICE_URL: subgraphUrl(4004),
  CONVERSATION_SERVICE_URL: subgraphUrl(4005),
  /** Signs the caller token; subgraphs hold only the public half. */
  CALLER_TOKEN_PRIVATE_KEY: pemSchema,
  /**
   * The services' at-rest key; the gateway derives from it only the key file tickets are signed
   * with (libs/files), to verify upload and download links before a byte is forwarded.
   */
  SECRETS_KEY: secretsKeySchema,
  /** Largest file an upload link accepts, in bytes, declared or streamed (413 beyond). Default: 1 GiB. */
  FILE_MAX_BYTES: z.coerce.number().int().min(1).max(1024 ** 4).default(1024 ** 3),
  /**
   * Longest a whole file transfer may take (Node's server request timeout, 5 minutes by default,
   * is raised to this so a large upload on a slow link is not cut off). Default: 1 hour.
   */
  FILE_TRANSFER_TIMEOUT_MS: z.coerce.number().int().min(10_000).max(24 * 3_600_000).default(3_600_000),
  /**
   * The origin clients reach the gateway at (`https://api.example.com`), for the upload and
   * download links services issue. Default: the origin each request was made to (its Host).
   */
  PUBLIC_URL: z
    .string()
    .refine((value) => /^https?:\/\/[^/]+\/?$/.test(value) && URL.canParse(value), 'must be an origin such as https://api.example.com (scheme and host, no path)')
    .transform((value) => value.replace(/\/$/, ''))
    .optional(),
  /** The composed supergraph SDL. Default: the committed apps/gateway/supergraph.graphql. */
  SUPERGRAPH_PATH: z.string().min(1).default(fileURLToPath(new URL('../supergraph.graphql', import.meta.url))),
  /**
   * Subgraphs sent a longer-lived caller token with each mutation, for background work they start
   * on the caller's behalf (enrichment jobs call content-service and campaign-service). Default: `enrichment`.
   */
  CALLER_DELEGATION_SUBGRAPHS: z
    .string()
    .default('enrichment')
    .transform((value) => value.split(',').map((name) => name.trim()).filter(Boolean)),
  /** How long such a token stays valid: the longest a job may wait and run. Default: 86 400 s (24 h). */
  CALLER_DELEGATION_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(86_400),
  /** Longest a single subgraph fetch may take; at most OPERATION_TIMEOUT_MS. */
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /**
   * Longest one operation may run at the gateway, all its subgraph fetches together: a fetch still
   * running then is abandoned (UPSTREAM_UNAVAILABLE). A shutdown waits this long (plus a moment to
   * write the answer) for requests in flight. Default: 30 000 ms.
   */
  OPERATION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(30_000),
  /**
   * Merge identical subgraph fetches in flight at the same moment for the same caller identity
   * (tenant, key, tier, scopes): one fetch, its answer handed to each. Never across identities,
   * never for mutations. Default: true.
   */
  SUBGRAPH_FETCH_MERGING: booleanFlag(true),
  GRAPHIQL_ENABLED: booleanFlag(true),
  /** Where the GraphiQL bundle lives. Default: apps/gateway/dist/graphiql, written by the build. */
  GRAPHIQL_ASSETS_PATH: z.string().min(1).default(fileURLToPath(new URL('../dist/graphiql', import.meta.url))),
  INTROSPECTION_ENABLED: booleanFlag(true),
  LOG_LEVEL: logLevelSchema,
  /** When set, GET /metrics needs `Authorization: Bearer <token>`; unset, it is open. */
  METRICS_TOKEN: z.string().min(16).optional(),
  ...rateLimitEnvironmentSchema.shape,
  ...operationLimitsEnvironmentSchema.shape,
  ...webSocketEnvironmentSchema.shape,
}).refine((environment) => environment.SUBGRAPH_TIMEOUT_MS <= environment.OPERATION_TIMEOUT_MS, {
  path: ['SUBGRAPH_TIMEOUT_MS'],
  message: 'must not be longer than OPERATION_TIMEOUT_MS (one fetch is part of an operation)',
});

type GatewayEnvironment = z.infer<typeof gatewayEnvironmentSchema>;

/**
 * How long the gateway hands out one caller identity token after signing it: the token lives
 * `callerTokenMaxLifetimeSeconds`, so an operation that got it at the end of this window still
 * carries a live token when it times out. 0 (an operation timeout of a minute or more) signs one
 * per request.
 */
export function callerTokenReuseMsOf(config: Pick<GatewayEnvironment, 'OPERATION_TIMEOUT_MS'>): number {
  return Math.max(0, callerTokenMaxLifetimeSeconds * 1_000 - config.OPERATION_TIMEOUT_MS - tokenClockMarginMs);
}

/** Kept off a reused token's life, for the clocks of the gateway and a subgraph to differ. */
const tokenClockMarginMs = 2_000;

/** Time to write an answer once its operation is done, on top of the operation timeout. */
const answerMarginMs = 2_000;

/**
 * How long a shutdown waits for requests in flight: the longest operation the gateway allows, plus
 * a moment to write its answer. Derived, never set on its own, so it can never be shorter than an
 * operation (a mutation committing while the process exits would leave its client without answer).
 */
export function shutdownGraceMsOf(config: Pick<GatewayEnvironment, 'OPERATION_TIMEOUT_MS'>): number {
  return config.OPERATION_TIMEOUT_MS + answerMarginMs;
}

/** Subgraph names as they appear in the supergraph (`join__Graph`), with where each one listens. */
export const subgraphNames = ['campaign', 'content', 'enrichment', 'crm', 'conversation'] as const;
export type SubgraphName = (typeof subgraphNames)[number];

/** The subgraph the gateway serves itself, in its own process (usage, job progress). */
export const gatewaySubgraphName = 'gateway';

export interface GatewayConfig extends GatewayEnvironment {
  subgraphUrls: Record<SubgraphName, string>;
}

const apiKeyCommandEnvironmentSchema = z.object({
  DATABASE_URL: postgresUrlSchema,
  LOG_LEVEL: logLevelSchema,
});

export type ApiKeyCommandConfig = z.infer<typeof apiKeyCommandEnvironmentSchema>;

/** Settings of `npm run apikey`: only where the key registry lives. */
export function loadApiKeyCommandConfig(environment: Record<string, string | undefined> = process.env): ApiKeyCommandConfig {
  return parseEnvironment(apiKeyCommandEnvironmentSchema, environment);
}

/** The only place the gateway reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): GatewayConfig {
  const parsed = parseEnvironment(gatewayEnvironmentSchema, environment);
  return {
    ...parsed,
    subgraphUrls: {
      campaign: parsed.CAMPAIGN_SERVICE_URL,
      content: parsed.CONTENT_SERVICE_URL,
      enrichment: parsed.ENRICHMENT_SERVICE_URL,
      crm: parsed.CRM_SERVICE_URL,
      conversation: parsed.CONVERSATION_SERVICE_URL,
    },
  };
}
