import { randomUUID } from 'node:crypto';
import { DefaultLogger, type EventSubscriber, type FlushEventArgs, type MigrationObject, type EntityClass, type Opt } from '@mikro-orm/core';
import { PrimaryKey, Property, ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from './logger.js';

export type { EntityManager } from '@mikro-orm/postgresql';

/** The filter that scopes every read, update and delete to the caller's tenant. */
export const tenantFilterName = 'tenant';

/**
 * Every row carries its tenant. Entities extend this class; the tenant filter and the tenant guard
 * below then make a query or a write outside the caller's tenant impossible to forget.
 *
 * A property the database or the class fills in is declared `Opt<…>` (MikroORM's brand), so
 * `em.create` asks for exactly the rest and type-checks it: a subclass does the same for each
 * non-nullable property with a default (nullable ones are optional already).
 */
export abstract class TenantScopedEntity {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid' })
  tenantId!: string;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}

/** A write was attempted without a tenant scope, or for another tenant than the scope's. */
export class TenantScopeError extends Error {
  override readonly name = 'TenantScopeError';
}

/**
 * Reads are covered by the filter, which fails when its tenant argument is missing. Writes are not
 * (an INSERT has no WHERE), so this guard checks every change set at flush time.
 */
class TenantGuard implements EventSubscriber {
  onFlush({ em, uow }: FlushEventArgs): void {
    const scope = em.getFilterParams<{ tenantId?: string }>(tenantFilterName)?.tenantId;
    for (const changeSet of uow.getChangeSets()) {
      const entity = changeSet.entity as Partial<TenantScopedEntity>;
      if (!scope) throw new TenantScopeError(`refusing to write ${changeSet.meta.className} without a tenant scope`);
      if (entity.tenantId !== scope) throw new TenantScopeError(`refusing to write ${changeSet.meta.className} of another tenant`);
    }
  }
}

const tenantFilter = {
  name: tenantFilterName,
  cond: (args: { tenantId?: string }) => ({ tenantId: args.tenantId }),
  default: true,
  args: true,
};

export interface DatabaseOptions {
  /** postgres:// URL of the server; the service's tables live in `schema` inside it. */
  url: string;
  /** The PostgreSQL schema this service owns. No other service reads or writes it. */
  schema: string;
  entities: EntityClass<object>[];
  /** Committed migrations, in order. Listed explicitly so they load the same from src and dist. */
  migrations: MigrationObject[];
  logger: Logger;
  /** Default: 10. */
  poolMax?: number;
  /** Called with every SQL statement; tests use it to count queries. Default: none. */
  onQuery?: (sql: string) => void;
  /**
   * Scope every entity to a tenant (filter and flush guard). Default: true. Only the gateway's
   * key registry turns it off: finding the tenant of a presented API key is the one lookup that
   * must search across tenants.
   */
  tenantScoped?: boolean;
}

export interface Database {
  orm: MikroORM;
  /** A fresh EntityManager for one request, scoped to one tenant. */
  forkForTenant(tenantId: string): EntityManager;
  /** Applies pending migrations to this service's schema. */
  migrate(): Promise<void>;
  /** Round trip to the server, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  const { onQuery, logger } = options;
  const tenantScoped = options.tenantScoped ?? true;
  const orm = await MikroORM.init({
    clientUrl: options.url,
    schema: options.schema,
    entities: options.entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: {
      migrationsList: options.migrations,
      schema: options.schema,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
    filters: tenantScoped ? { [tenantFilterName]: tenantFilter } : {},
    subscribers: tenantScoped ? [new TenantGuard()] : [],
    pool: { min: 0, max: options.poolMax ?? 10 },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    // Plain text: query logs go to pino or to a test's counter, never to a terminal.
    colors: false,
    debug: onQuery ? ['query'] : false,
    loggerFactory: (loggerOptions) =>
      new DefaultLogger({
        ...loggerOptions,
        writer: (message) => (onQuery ? onQuery(message) : logger.debug({ orm: message }, 'mikro-orm')),
      }),
  });

  return {
    orm,
    forkForTenant(tenantId) {
      const em = orm.em.fork({ clear: true });
      em.setFilterParams(tenantFilterName, { tenantId });
      return em;
    },
    async migrate() {
      const connection = orm.em.getConnection();
      await connection.execute(`create schema if not exists "${options.schema}"`);
      const applied = await orm.migrator.up();
      if (applied.length > 0) logger.info({ migrations: applied.map((migration) => migration.name) }, 'applied migrations');
    },
    async ping() {
      await orm.em.getConnection().execute('select 1');
    },
    close: () => orm.close(true),
  };
}
