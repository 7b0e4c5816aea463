import type { Opt } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** A webhook event already taken: a provider delivering it again (same event id) changes nothing. */
@Entity({ tableName: 'crm_webhook_event' })
export class CrmWebhookEventRecord {
  @PrimaryKey({ type: 'uuid' })
  connectionId!: string;

  @PrimaryKey({ type: 'text' })
  eventId!: string;

  @Property({ type: 'uuid' })
  tenantId!: string;

  @Property({ type: 'datetime' })
  receivedAt: Opt<Date> = new Date();
}
