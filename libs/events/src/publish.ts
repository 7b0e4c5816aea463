import { randomUUID } from 'node:crypto';
import { tenantFilterName, TenantScopeError, type EntityManager } from '@gtm/runtime';
import type { DomainEvent, EventData, EventDataInput, EventDefinition } from './event-definition.js';
import { quoteSchema } from './event-schema.js';

/** The channel a publishing transaction notifies on commit; its payload is the publisher's schema. */
export const outboxChannel = 'gtm_events_outbox';

export interface PublishInput<Definition extends EventDefinition> {
  /** The id of the entity of the definition's `entityType` that changed. */
  entityId: string;
  data: EventDataInput<Definition>;
  /** The caller's request id (`context.caller.requestId`); null for changes made outside a request. */
  requestId: string | null;
  /** Default: the publishing transaction's start. */
  occurredAt?: Date;
}

/** The publishing service's schema: where its outbox is. */
export function schemaOf(em: EntityManager): string {
  const schema = em.config.get('schema');
  if (!schema) throw new Error('the EntityManager has no schema: events are published from a service database (createDatabase)');
  return schema;
}

/** The tenant events are published for: the EntityManager's, which must be in a transaction. */
function publishingTenant(em: EntityManager, definition: EventDefinition): string {
  if (!em.isInTransaction()) {
    throw new Error(`publishing ${definition.key} outside a transaction: wrap the change and the publish in em.transactional(...) so they commit together`);
  }
  const tenantId = em.getFilterParams<{ tenantId?: string }>(tenantFilterName)?.tenantId;
  if (!tenantId) throw new TenantScopeError(`refusing to publish ${definition.key} without a tenant scope`);
  return tenantId;
}

/**
 * Records an event in the outbox, in the transaction of the change that causes it: the event is
 * committed if and only if the change is, and then delivered to every subscriber. `em` must be in a
 * transaction (`em.transactional(async (transaction) => publishEvent(transaction, …))`); its pending
 * changes are flushed first, so the changed row is locked before the event is numbered and two
 * events of one entity keep the order of their commits. The tenant is the EntityManager's.
 */
export async function publishEvent<Definition extends EventDefinition>(em: EntityManager, definition: Definition, input: PublishInput<Definition>): Promise<DomainEvent<EventData<Definition>>> {
  const [event] = await publishEvents(em, definition, [input]);
  return event!;
}

/**
 * `publishEvent` for many events of one definition at once (an import publishing thousands): one
 * INSERT … SELECT over a JSON array, whatever their number, numbered in the order given.
 */
export async function publishEvents<Definition extends EventDefinition>(
  em: EntityManager,
  definition: Definition,
  inputs: readonly PublishInput<Definition>[],
): Promise<DomainEvent<EventData<Definition>>[]> {
  const tenantId = publishingTenant(em, definition);
  if (inputs.length === 0) return [];
  const publisher = schemaOf(em);
  // A publisher's own bug (data its own schema refuses) fails its transaction, never a consumer.
  const events = inputs.map(
    (input): DomainEvent<EventData<Definition>> => ({
      id: randomUUID(),
      name: definition.name,
      version: definition.version,
      tenantId,
      entity: { type: definition.entityType, id: input.entityId },
      occurredAt: input.occurredAt ?? new Date(),
      requestId: input.requestId,
      publisher,
      data: definition.schema.parse(input.data) as EventData<Definition>,
    }),
  );
  await em.flush();
  const rows = events.map((event, index) => ({
    event_id: event.id,
    entity_id: event.entity.id,
    // Without a time of its own the event takes the transaction's, as the change's rows do.
    occurred_at: inputs[index]!.occurredAt?.toISOString() ?? null,
    request_id: event.requestId,
    data: event.data,
  }));
  const [row] = await em.execute<Array<{ occurred_at: string }>>(
    `with inserted as (
       insert into ${quoteSchema(publisher)}.event_outbox (event_id, tenant_id, name, version, entity_type, entity_id, occurred_at, request_id, data)
       select event.event_id, ?::uuid, ?, ?, ?, event.entity_id, coalesce(event.occurred_at, now()), event.request_id, event.data
       from jsonb_array_elements(?::jsonb) with ordinality as element(value, ordinal),
         jsonb_to_record(element.value) as event(event_id uuid, entity_id text, occurred_at timestamptz, request_id text, data jsonb)
       order by element.ordinal
       returning 1
     )
     select to_json(now()) #>> '{}' as occurred_at, pg_notify(?, ?) from (select count(*) from inserted) as counted`,
    [tenantId, definition.name, definition.version, definition.entityType, JSON.stringify(rows), outboxChannel, publisher],
  );
  const transactionTime = new Date(row!.occurred_at);
  return events.map((event, index) => (inputs[index]!.occurredAt ? event : { ...event, occurredAt: transactionTime }));
}

/**
 * Publishes one event per row of a query, for changes made with set-based SQL (an import that
 * creates 100,000 leads in one statement): the outbox rows are written by one INSERT … SELECT in
 * the database, never built in memory. `select` is run in the same transaction and must yield
 * `entity_id` (text) and `data` (jsonb, the definition's data exactly: the caller's SQL is the
 * contract here, so test it against `definition.schema`); `?` placeholders take `values`.
 * Answers how many events were published.
 */
export async function publishEventsFromQuery<Definition extends EventDefinition>(
  em: EntityManager,
  definition: Definition,
  query: { select: string; values: readonly unknown[]; requestId: string | null },
): Promise<number> {
  const tenantId = publishingTenant(em, definition);
  const publisher = schemaOf(em);
  const [row] = await em.execute<Array<{ count: number }>>(
    `with source as (${query.select}),
     inserted as (
       insert into ${quoteSchema(publisher)}.event_outbox (event_id, tenant_id, name, version, entity_type, entity_id, occurred_at, request_id, data)
       select gen_random_uuid(), ?::uuid, ?, ?, ?, source.entity_id, now(), ?, source.data from source order by source.entity_id
       returning 1
     ),
     counted as (select count(*)::int as count from inserted)
     select counted.count, case when counted.count > 0 then pg_notify(?, ?) end from counted`,
    [...query.values, tenantId, definition.name, definition.version, definition.entityType, query.requestId, outboxChannel, publisher],
  );
  return row?.count ?? 0;
}

/** Entities per outbox row of `publishEventForEntities`: bounds a row's size and a relay batch's work. */
export const entitiesPerOutboxRow = 1_000;

/**
 * Publishes one event of the same data for each entity a query yields, for set-based changes of
 * many entities that all had the same thing happen to them (an import's new leads: `lead.imported`).
 * Each subscriber receives one event per entity, in the entity's stream, ordered with that entity's
 * other events, with an event id of its own that is the same on every delivery — exactly as if
 * each had been published alone. In the outbox they are one row per `entitiesPerOutboxRow`
 * entities carrying only their ids, so the publishing transaction writes (and the data is
 * validated) once per row, not once per entity. `select` must yield `entity_id` (text); `?`
 * placeholders take `values`. Answers how many events were published.
 */
export async function publishEventForEntities<Definition extends EventDefinition>(
  em: EntityManager,
  definition: Definition,
  input: { select: string; values: readonly unknown[]; data: EventDataInput<Definition>; requestId: string | null },
): Promise<number> {
  const tenantId = publishingTenant(em, definition);
  const publisher = schemaOf(em);
  // A publisher's own bug (data its own schema refuses) fails its transaction, never a consumer.
  const data = definition.schema.parse(input.data);
  const [row] = await em.execute<Array<{ count: number }>>(
    `with source as (${input.select}),
     numbered as (select entity_id, row_number() over (order by entity_id collate "C") - 1 as ordinal from source),
     chunked as (select ordinal / ? as chunk, array_agg(entity_id order by ordinal) as entity_ids from numbered group by ordinal / ?),
     inserted as (
       insert into ${quoteSchema(publisher)}.event_outbox (event_id, tenant_id, name, version, entity_type, entity_id, occurred_at, request_id, data, entity_ids)
       select gen_random_uuid(), ?::uuid, ?, ?, ?, '', now(), ?, ?::jsonb, chunked.entity_ids from chunked order by chunked.chunk
       returning cardinality(entity_ids) as entities
     ),
     counted as (select coalesce(sum(entities), 0)::int as count from inserted)
     select counted.count, case when counted.count > 0 then pg_notify(?, ?) end from counted`,
    [
      ...input.values,
      entitiesPerOutboxRow,
      entitiesPerOutboxRow,
      tenantId,
      definition.name,
      definition.version,
      definition.entityType,
      input.requestId,
      JSON.stringify(data),
      outboxChannel,
      publisher,
    ],
  );
  return row?.count ?? 0;
}
