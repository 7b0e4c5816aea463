import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import type { AssetKind } from '../assets/index.js';

/** The lifecycle every job shares (API.md `JobStatus`). */
export enum JobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** One `generateCampaign` run: the kinds asked for and how far it got. */
@Entity({ tableName: 'campaign_job' })
export class CampaignJob extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  campaignId!: string;

  /** The kinds asked for; their prerequisites are built as needed. */
  @Property({ type: 'json' })
  kinds: AssetKind[] = [];

  @Enum({ items: () => JobStatus, nativeEnumName: undefined })
  status: JobStatus = JobStatus.QUEUED;

  /** Assets to build: the kinds asked for and the prerequisites they need, until the plan says. */
  @Property({ type: 'integer' })
  total: number = 0;

  @Property({ type: 'integer' })
  completed: number = 0;

  @Property({ type: 'integer' })
  failed: number = 0;

  /** Where it stands, for the user. */
  @Property({ type: 'text', nullable: true })
  message: string | null = null;

  /** The cause of a failure, for operators; never shown to clients. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;
}
