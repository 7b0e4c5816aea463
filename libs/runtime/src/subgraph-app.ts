import type { MigrationObject, EntityClass } from '@mikro-orm/core';
import { createCallerTokenVerifier, type CallerContext, type CallerTokenVerifier } from '@gtm/caller';
import type { RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { SubgraphEnvironment } from './config.js';
import { createDatabase, type Database, type EntityManager } from './database.js';
import { createLogger, type Logger } from './logger.js';
import { closeRedis, createRedis, type Redis } from './redis.js';
import { createSubgraphServer, type SubgraphServerOptions } from './subgraph-server.js';

export interface SubgraphAppOptions<Loaders> {
  /** Service name: logs, health report, and the PostgreSQL schema it owns (`crm-service` → `crm`). */
  name: string;
  config: SubgraphEnvironment & { PORT: number };
  entities: EntityClass<object>[];
  migrations: MigrationObject[];
  /** Builds the schema; called once the shared dependencies exist. */
  buildSchema: (dependencies: { database: Database; redis: Redis; logger: Logger }) => Promise<GraphQLSchema>;
  /** Builds a request's loaders; see `SubgraphServerOptions.createLoaders`. */
  createLoaders: (em: EntityManager, caller: CallerContext, callerToken: string | undefined) => Loaders;
  /**
   * Runs after the migrations and before the schema is built: writes the reference data a service
   * ships with its code (catalogs shared by every tenant), so it is in place before any request.
   * Default: none.
   */
  seed?: (database: Database, logger: Logger) => Promise<void>;
  /** Default: a pino logger at LOG_LEVEL on standard output. */
  logger?: Logger;
  /** Called with every SQL statement (tests count queries). Default: none. */
  onQuery?: (sql: string) => void;
  /**
   * Routes beside /graphql (the file transfers of @gtm/files' `createFileRoutes`, webhooks the
   * gateway relays), built once the shared dependencies exist. Default: none.
   */
  routes?: (dependencies: { database: Database; redis: Redis; logger: Logger; verifier: CallerTokenVerifier }) => RequestHandler | Promise<RequestHandler>;
  /** Routes mounted on the service's Express app itself (given `authenticate`); see `SubgraphServerOptions.mountRoutes`. Default: none. */
  mountRoutes?: SubgraphServerOptions<Loaders>['mountRoutes'];
}

export interface SubgraphApp {
  /** The GraphQL endpoint. */
  url: string;
  database: Database;
  redis: Redis;
  logger: Logger;
  close(): Promise<void>;
}

/** The PostgreSQL schema a service owns: its name without the `-service` suffix. */
export function schemaNameFor(serviceName: string): string {
  return serviceName.replace(/-service$/, '').replace(/[^a-z0-9_]/g, '_');
}

/**
 * Starts one subgraph: logger, database (migrated and seeded), Redis, caller verification, HTTP server.
 * Whatever was opened is closed again when a later step fails, so a failed start leaks nothing.
 */
export async function startSubgraphApp<Loaders>(options: SubgraphAppOptions<Loaders>): Promise<SubgraphApp> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ service: options.name, level: config.LOG_LEVEL });
  const verifier = await createCallerTokenVerifier({ publicKeyPem: config.CALLER_TOKEN_PUBLIC_KEY });
  const database = await createDatabase({
    url: config.DATABASE_URL,
    schema: schemaNameFor(options.name),
    entities: options.entities,
    migrations: options.migrations,
    logger,
    poolMax: config.DATABASE_POOL_MAX,
    onQuery: options.onQuery,
  });
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX || undefined });
  try {
    await database.migrate();
    await options.seed?.(database, logger);
    await redis.connect();
    const schema = await options.buildSchema({ database, redis, logger });
    const server = await createSubgraphServer({
      name: options.name,
      schema,
      database,
      redis,
      logger,
      verifier,
      createLoaders: options.createLoaders,
      shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
      ...(options.routes ? { routes: await options.routes({ database, redis, logger, verifier }) } : {}),
      mountRoutes: options.mountRoutes,
    });
    const url = await server.listen(config.PORT, config.HOST);
    logger.info({ url }, `${options.name} listening`);
    return { url, database, redis, logger, close: () => server.close() };
  } catch (error) {
    await Promise.allSettled([database.close(), closeRedis(redis)]);
    throw error;
  }
}
