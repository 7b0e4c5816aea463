import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

export enum ConversationStatus {
  OPEN = 'OPEN',
  WAITING_FOR_REPLY = 'WAITING_FOR_REPLY',
  REPLIED = 'REPLIED',
  CLOSED = 'CLOSED',
}

/** An email thread with one lead, possibly started by a campaign. */
@Entity({ tableName: 'conversation' })
export class Conversation extends TenantScopedEntity {
  @Property({ type: 'text' })
  subject!: string;

  @Enum({ items: () => ConversationStatus, nativeEnumName: undefined })
  status: Opt<ConversationStatus> = ConversationStatus.OPEN;

  /** The crm-service `Lead` this conversation is with. */
  @Property({ type: 'uuid' })
  leadId!: string;

  /** The campaign-service `Campaign` that started it, if any. */
  @Property({ type: 'uuid', nullable: true })
  campaignId: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastMessageAt: Date | null = null;
}
