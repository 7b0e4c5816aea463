import type { DomainEvent } from './event-definition.js';

/** A row of `gtm_events.delivery` as the queries here select it (`deliveryColumns`). */
export interface DeliveryRow {
  id: string;
  event_id: string;
  event_name: string;
  event_version: number;
  tenant_id: string;
  entity_type: string;
  entity_id: string;
  occurred_at: string;
  request_id: string | null;
  publisher: string;
  data: unknown;
  attempts: number;
  last_error: string | null;
  last_failed_at: string | null;
  parked_at: string | null;
  parked?: boolean;
  not_before?: string | null;
}

/**
 * The columns of a delivery, timestamps as ISO 8601 text whatever the driver's date parsing. The id
 * is text too (a bigint): a query orders by `delivery.id`, never by this output column.
 */
export const deliveryColumns = [
  'id::text as id',
  'event_id',
  'event_name',
  'event_version',
  'tenant_id',
  'entity_type',
  'entity_id',
  `to_json(occurred_at) #>> '{}' as occurred_at`,
  'request_id',
  'publisher',
  'data',
  'attempts',
  'last_error',
  `to_json(last_failed_at) #>> '{}' as last_failed_at`,
  `to_json(parked_at) #>> '{}' as parked_at`,
].join(', ');

/** The event a delivery carries (its data not yet checked against the definition). */
export function eventOfDelivery(row: DeliveryRow): DomainEvent {
  return {
    id: row.event_id,
    name: row.event_name,
    version: Number(row.event_version),
    tenantId: row.tenant_id,
    entity: { type: row.entity_type, id: row.entity_id },
    occurredAt: new Date(row.occurred_at),
    requestId: row.request_id,
    publisher: row.publisher,
    data: typeof row.data === 'string' ? (JSON.parse(row.data) as unknown) : row.data,
  };
}
