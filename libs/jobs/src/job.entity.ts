import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';

/** Where a job stands (the API's `JobStatus`). */
export enum JobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** Statuses a job never leaves. */
export const terminalJobStatuses: readonly JobStatus[] = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED];

/** Statuses from which a job may still be cancelled. */
export const activeJobStatuses: readonly JobStatus[] = [JobStatus.QUEUED, JobStatus.RUNNING];

export function isTerminal(status: JobStatus): boolean {
  return terminalJobStatuses.includes(status);
}

/**
 * One piece of long work (an enrichment run, a campaign generation …) in the schema of the service
 * that owns it, with its lifecycle and progress. graphile-worker holds only the trigger; this row
 * is what users see and what the worker counts against.
 *
 * The root of a table-per-type hierarchy: a service whose job is itself a domain object (an
 * `EnrichmentJob` has a name and records) extends this class, and MikroORM keeps the extra
 * columns in the subclass's own table, joined by id. A job about another object (a campaign's
 * generation) stays a plain `Job` and names that object as its subject.
 */
@Entity({ tableName: 'job', inheritance: 'tpt' })
export class Job extends TenantScopedEntity {
  /** What sort of work this is; also the graphile-worker task that runs it. */
  @Property({ type: 'text' })
  kind!: string;

  @Enum({ items: () => JobStatus, nativeEnumName: undefined })
  status: Opt<JobStatus> = JobStatus.QUEUED;

  /** Items to process; known when the job is submitted. */
  @Property({ type: 'integer' })
  total: Opt<number> = 0;

  /** Items processed successfully. */
  @Property({ type: 'integer' })
  completed: Opt<number> = 0;

  /** Items that could not be processed (each one's reason is in its own record). */
  @Property({ type: 'integer' })
  failed: Opt<number> = 0;

  /** A short, user-facing note on the job's state. */
  @Property({ type: 'text', nullable: true })
  message: string | null = null;

  /** The technical cause of a failure; for operators, never shown to clients. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  /** The GraphQL entity type the job works on (`EnrichmentJob`, `Campaign`), if any. */
  @Property({ type: 'text', nullable: true })
  subjectType: string | null = null;

  /** That entity's id. */
  @Property({ type: 'text', nullable: true })
  subjectId: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;
}

/**
 * An item a job has processed. The primary key (job, item) is what makes work idempotent: the row
 * is inserted in the same transaction as the item's own writes and the job's counters, so an item
 * retried after a crash, or run twice by two workers, is committed (and counted) once.
 */
@Entity({ tableName: 'job_item' })
export class JobItem {
  @PrimaryKey({ type: 'uuid' })
  jobId!: string;

  @PrimaryKey({ type: 'text' })
  itemKey!: string;

  @Property({ type: 'uuid' })
  tenantId!: string;

  /** `completed` or `failed`. */
  @Property({ type: 'text' })
  outcome!: 'completed' | 'failed';

  @Property({ type: 'datetime' })
  processedAt: Opt<Date> = new Date();
}

/** The entities a service registers (next to its own) to use jobs. */
export const jobEntities = [Job, JobItem];

/** Share of items processed, successfully or not, from 0 to 100; an empty job is at 0. */
export function progressPercent(job: { total: number; completed: number; failed: number }): number {
  if (job.total <= 0) return 0;
  return Math.min(100, ((job.completed + job.failed) / job.total) * 100);
}
