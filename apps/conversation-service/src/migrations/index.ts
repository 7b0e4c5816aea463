import { CreateEventOutbox, EventOutboxForManyEntities } from '@gtm/events';
import type { MigrationObject } from '@mikro-orm/core';
import { CreateConversations } from './20261122000000-create-conversations.js';
import { CreateMailboxes } from './20261208000000-create-mailboxes.js';
import { ConversationEngine } from './20261208010000-conversation-engine.js';

/** Every migration of the conversation schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261122000000-create-conversations', class: CreateConversations },
  { name: '20261208000000-create-mailboxes', class: CreateMailboxes },
  { name: '20261208010000-conversation-engine', class: ConversationEngine },
  { name: '20261208020000-create-event-outbox', class: CreateEventOutbox },
  { name: '20261208030100-event-outbox-for-many-entities', class: EventOutboxForManyEntities },
];
