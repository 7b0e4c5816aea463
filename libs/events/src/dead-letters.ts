import { isUuid, type Database, type EntityManager } from '@gtm/runtime';
import { quotedWorkerSchema, sharedWorkerSchema } from '@gtm/jobs';
import { scheduleShards, sqlRunnerOf } from './delivery-jobs.js';
import { deliveryColumns, eventOfDelivery, type DeliveryRow } from './delivery-row.js';
import type { DomainEvent } from './event-definition.js';
import { quoteSchema, sharedEventSchema } from './event-schema.js';

/** An event a subscriber gave up on: it waits, with its entity's later events behind it. */
export interface DeadLetter {
  /** The delivery's id: what `replay` and `discard` take. */
  id: string;
  subscriber: string;
  event: DomainEvent;
  attempts: number;
  /** The last failure, for operators: `<error name>: <message>`. */
  lastError: string | null;
  lastFailedAt: Date | null;
  parkedAt: Date;
  /** Later events of the same entity held behind this one. */
  heldEvents: number;
}

export interface DeadLetterFilter {
  /** Only this tenant's: what a tenant-facing API must pass. Default: every tenant (operators). */
  tenantId?: string;
  /** Default: 50, at most 500. */
  limit?: number;
  /** The `id` of the last dead letter of the previous page; oldest first. */
  after?: string;
}

export interface DeadLetters {
  list(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  count(filter?: Pick<DeadLetterFilter, 'tenantId'>): Promise<number>;
  /**
   * Hands a dead letter back to its handler, with its attempts counted from zero; its entity's
   * held events follow once it is handled. False when there is no such dead letter (of this tenant,
   * when one is given).
   */
  replay(id: string, scope?: { tenantId?: string }): Promise<boolean>;
  /** Drops a dead letter for good; its entity's held events go on. False as for `replay`. */
  discard(id: string, scope?: { tenantId?: string }): Promise<boolean>;
}

const idPattern = /^[1-9][0-9]{0,18}$/;

/** The condition that keeps to one tenant; a tenant id that is no id matches nothing (rather than failing the query). */
function scopeClause(scope: { tenantId?: string } | undefined): { sql: string; parameters: string[] } {
  if (scope?.tenantId === undefined) return { sql: '', parameters: [] };
  return isUuid(scope.tenantId) ? { sql: 'and tenant_id = ?::uuid', parameters: [scope.tenantId] } : { sql: 'and false', parameters: [] };
}

/** The dead letters of one subscriber. */
export function createDeadLetters(options: { database: Database; subscriber: string; eventSchema?: string; workerSchema?: string }): DeadLetters {
  const { database, subscriber } = options;
  const eventSchema = quoteSchema(options.eventSchema ?? sharedEventSchema);
  const workerSchema = quotedWorkerSchema(options.workerSchema ?? sharedWorkerSchema);
  const fork = (): EntityManager => database.orm.em.fork({ clear: true });

  /** Changes one dead letter and, in the same transaction, wakes its shard. */
  const release = async (id: string, change: (transaction: EntityManager) => Promise<Array<{ shard: number }>>) => {
    if (!idPattern.test(id)) return false;
    return fork().transactional(async (transaction) => {
      const [row] = await change(transaction);
      if (!row) return false;
      await scheduleShards(sqlRunnerOf(transaction), workerSchema, [{ subscriber, shard: Number(row.shard) }]);
      return true;
    });
  };

  return {
    async list(filter = {}) {
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
      const tenant = scopeClause(filter);
      const after = filter.after && idPattern.test(filter.after) ? filter.after : '0';
      const rows = await fork().execute<Array<DeliveryRow & { held: string }>>(
        `select ${deliveryColumns},
           (select count(*) from ${eventSchema}.delivery as later where later.subscriber = delivery.subscriber and later.stream = delivery.stream and later.id > delivery.id) as held
         from ${eventSchema}.delivery
         where subscriber = ? and parked_at is not null and id > ?::bigint ${tenant.sql}
         order by delivery.id limit ?`,
        [subscriber, after, ...tenant.parameters, limit],
      );
      return rows.map((row) => ({
        id: row.id,
        subscriber,
        event: eventOfDelivery(row),
        attempts: Number(row.attempts),
        lastError: row.last_error,
        lastFailedAt: row.last_failed_at ? new Date(row.last_failed_at) : null,
        parkedAt: new Date(row.parked_at!),
        heldEvents: Number(row.held),
      }));
    },
    async count(filter = {}) {
      const tenant = scopeClause(filter);
      const [row] = await fork().execute<Array<{ count: string }>>(
        `select count(*) from ${eventSchema}.delivery where subscriber = ? and parked_at is not null ${tenant.sql}`,
        [subscriber, ...tenant.parameters],
      );
      return Number(row!.count);
    },
    replay(id, scope) {
      const tenant = scopeClause(scope);
      return release(id, (transaction) =>
        transaction.execute(
          `update ${eventSchema}.delivery set parked_at = null, attempts = 0, next_attempt_at = null
           where id = ?::bigint and subscriber = ? and parked_at is not null ${tenant.sql} returning shard`,
          [id, subscriber, ...tenant.parameters],
        ),
      );
    },
    discard(id, scope) {
      const tenant = scopeClause(scope);
      return release(id, (transaction) =>
        transaction.execute(`delete from ${eventSchema}.delivery where id = ?::bigint and subscriber = ? and parked_at is not null ${tenant.sql} returning shard`, [
          id,
          subscriber,
          ...tenant.parameters,
        ]),
      );
    },
  };
}
