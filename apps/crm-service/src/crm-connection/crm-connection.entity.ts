import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import { CrmProvider } from '../crm-provider/crm-provider.js';
import type { FieldMapping } from '../crm-provider/field-mapping.js';

/** Where a connection stands (the API's `CrmConnectionStatus`). */
export enum CrmConnectionStatus {
  /** Syncing as asked. */
  ACTIVE = 'ACTIVE',
  /** The provider's daily cap is spent; a run resumes at `pausedUntil`. */
  PAUSED = 'PAUSED',
  /** The provider refused the credentials (revoked, expired): connect again with new ones. */
  ERROR = 'ERROR',
  DISCONNECTED = 'DISCONNECTED',
}

/**
 * A tenant's connection to one CRM account. Credentials and the webhook secret are sealed with the
 * secrets key (decision 12), bound to the tenant and the connection; only masked hints are shown.
 */
@Entity({ tableName: 'crm_connection' })
export class CrmConnection extends TenantScopedEntity {
  @Enum({ items: () => CrmProvider, nativeEnumName: undefined })
  provider!: CrmProvider;

  @Enum({ items: () => CrmConnectionStatus, nativeEnumName: undefined })
  status: Opt<CrmConnectionStatus> = CrmConnectionStatus.ACTIVE;

  /** Why the connection is not ACTIVE, for people. */
  @Property({ type: 'text', nullable: true })
  statusMessage: string | null = null;

  /** The provider's id of the account the credentials open (a HubSpot portal, a Salesforce org …). */
  @Property({ type: 'text' })
  accountId!: string;

  @Property({ type: 'text' })
  accountName!: string;

  /** Null for the provider's public API. */
  @Property({ type: 'text', nullable: true })
  baseUrl: string | null = null;

  @Property({ type: 'text', hidden: true })
  sealedCredentials!: string;

  @Property({ type: 'text' })
  credentialsHint!: string;

  @Property({ type: 'text', nullable: true, hidden: true })
  sealedWebhookSecret: string | null = null;

  @Property({ type: 'text', nullable: true })
  webhookSecretHint: string | null = null;

  @Property({ type: 'json' })
  fieldMapping!: FieldMapping;

  /** Provider clock: every change up to here has been imported (the next run starts here, less the overlap). */
  @Property({ type: 'datetime', nullable: true })
  importCursor: Date | null = null;

  /** Our clock: every lead changed before this (and up to this lead at this instant) has been pushed. */
  @Property({ type: 'datetime', nullable: true })
  exportCursorAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  exportCursorLeadId: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  pausedUntil: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastSyncedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  disconnectedAt: Date | null = null;
}

/** What a connection's credentials and webhook secret are sealed with: its tenant and its own id. */
export function sealingContextOf(connection: { tenantId: string; id: string }): string {
  return `crm-connection:${connection.tenantId}:${connection.id}`;
}
