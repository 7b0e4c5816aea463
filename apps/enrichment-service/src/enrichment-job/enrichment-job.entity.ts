import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

/** The lifecycle every job shares (../shared/API.md `JobStatus`). */
export enum JobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** Statuses a job never leaves. */
export const finishedJobStatuses: readonly JobStatus[] = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED];

/** Statuses from which a job may still be cancelled. */
export const activeJobStatuses: readonly JobStatus[] = [JobStatus.QUEUED, JobStatus.RUNNING];

/** One enrichment run over a list of records, with its progress. */
@Entity({ tableName: 'enrichment_job' })
export class EnrichmentJob extends TenantScopedEntity {
  /** What the user calls it, typically the uploaded file's name. */
  @Property({ type: 'text' })
  name!: string;

  @Enum({ items: () => JobStatus, nativeEnumName: undefined })
  status: JobStatus = JobStatus.QUEUED;

  /** Records to process. */
  @Property({ type: 'integer' })
  total: number = 0;

  /** Records processed successfully. */
  @Property({ type: 'integer' })
  completed: number = 0;

  /** Records that could not be processed. */
  @Property({ type: 'integer' })
  failed: number = 0;

  /** A short, user-facing note on the job's state. */
  @Property({ type: 'text', nullable: true })
  message: string | null = null;

  /** The technical cause of a failure; for operators, never shown to clients. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;
}

/** Share of records processed, successfully or not, from 0 to 100; an empty job is at 0. */
export function progressPercent(job: Pick<EnrichmentJob, 'total' | 'completed' | 'failed'>): number {
  if (job.total <= 0) return 0;
  return ((job.completed + job.failed) / job.total) * 100;
}
