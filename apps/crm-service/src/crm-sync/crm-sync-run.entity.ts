import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { Job } from '@gtm/jobs';
import type { CrmWebhookEvent } from '../crm-provider/crm-provider.js';

/** The `kind` of a CRM sync run, and its worker task. */
export const crmSyncJobKind = 'crm-sync';

export enum SyncDirection {
  IMPORT = 'IMPORT',
  EXPORT = 'EXPORT',
  BOTH = 'BOTH',
}

/** What started a run. */
export type CrmSyncTrigger = 'manual' | 'webhook' | 'resume' | 'replay' | 'lead-change';

/** A webhook event as a run keeps it (dates as ISO strings). */
export type StoredWebhookEvent = Omit<CrmWebhookEvent, 'occurredAt'> & { occurredAt: string };

/**
 * One sync of a connection: a job (decision 0014) whose items are pages of provider changes, then
 * batches of leads changed here, then — for a run a webhook started — its events. Record counts
 * are its own; the job's `completed`/`failed` count items.
 */
@Entity({ tableName: 'crm_sync_run' })
export class CrmSyncRun extends Job {
  override kind: Opt<string> = crmSyncJobKind;

  @Property({ type: 'uuid' })
  connectionId!: string;

  @Enum({ items: () => SyncDirection, nativeEnumName: undefined })
  direction!: SyncDirection;

  /** Import everything, not only what changed since the cursor. */
  @Property({ type: 'boolean', fieldName: 'full' })
  full: Opt<boolean> = false;

  @Property({ type: 'text' })
  trigger!: CrmSyncTrigger;

  @Property({ type: 'integer' })
  createdRecords: Opt<number> = 0;

  @Property({ type: 'integer' })
  updatedRecords: Opt<number> = 0;

  @Property({ type: 'integer' })
  unchangedRecords: Opt<number> = 0;

  @Property({ type: 'integer' })
  failedRecords: Opt<number> = 0;

  @Property({ type: 'integer' })
  conflicts: Opt<number> = 0;

  @Property({ type: 'integer' })
  deletedRecords: Opt<number> = 0;

  @Property({ type: 'integer' })
  mergedRecords: Opt<number> = 0;

  /** Where a retried or resumed attempt of this run continues its import (provider clock). */
  @Property({ type: 'datetime', nullable: true })
  importResumeFrom: Date | null = null;

  /** The import went through every page: a retry goes straight to the export. */
  @Property({ type: 'boolean' })
  importDone: Opt<boolean> = false;

  /** Set when the provider's daily cap ended the run: another run resumes then. */
  @Property({ type: 'datetime', nullable: true })
  pausedUntil: Date | null = null;

  /** For a run a webhook started: the events to apply. */
  @Property({ type: 'json', nullable: true })
  webhookEvents: StoredWebhookEvent[] | null = null;
}
