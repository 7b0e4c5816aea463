import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager, Logger } from '@gtm/runtime';
import type { Job } from './job.entity.js';

/** What processing one item came to. */
export interface JobItemResult {
  outcome: 'completed' | 'failed';
  /**
   * Writes the item's results. Called inside the transaction that also records the item as
   * processed and counts it, so the three are committed together or not at all. Default: nothing
   * to write.
   */
  save?: (transaction: EntityManager) => Promise<void>;
}

/** What a kind's functions are given while one of its jobs runs. */
export interface JobRunContext<JobEntity extends Job> {
  /** The job as it was when this run started. */
  job: JobEntity;
  /** Scoped to the job's tenant; not in a transaction. */
  em: EntityManager;
  logger: Logger;
  /** Aborted when the worker must stop (shutdown); long calls in `processItem` should honour it. */
  signal: AbortSignal;
}

/**
 * One sort of job: how to list its items and process one. Processing is split in two on purpose:
 * `processItem` does the slow part (a model call, a fetch) outside any transaction, and returns a
 * `save` that writes the outcome inside the short transaction that records the item as done.
 */
export interface JobKind<Item, JobEntity extends Job = Job> {
  /** The job's `kind` and the graphile-worker task name, e.g. `enrichment`. */
  kind: string;
  /** The entity class the job is (`Job` or a subclass). Default: `Job`. */
  entity?: EntityClass<JobEntity>;
  /**
   * The graphile-worker queue a job runs in: jobs of one queue run one at a time, across every
   * worker process. Default: no queue (only the workers' concurrency limits how many run).
   */
  queueOf?: (job: JobEntity) => string | undefined;
  /** Runs of a job before it is marked FAILED; retries wait e^attempt seconds. Default: 5. */
  maxAttempts?: number;
  /**
   * Every item of the job, in a stable order. Items already processed (by an earlier attempt or a
   * worker that died) are skipped by key, so this lists all of them every time.
   */
  items(context: JobRunContext<JobEntity>): AsyncIterable<Item> | Iterable<Item>;
  /** Identifies an item within its job (at most 500 characters). */
  itemKey(item: Item): string;
  processItem(item: Item, context: JobRunContext<JobEntity>): Promise<JobItemResult>;
}

/** Declares a kind of job with its types checked (`defineJobKind<Row, EnrichmentJob>({ … })`). */
export function defineJobKind<Item, JobEntity extends Job = Job>(kind: JobKind<Item, JobEntity>): JobKind<Item, JobEntity> {
  return kind;
}

/** A kind whose item and job types no longer matter (lists of kinds). */
export type AnyJobKind = JobKind<any, any>;

/** The graphile-worker payload of every job task: just enough to find the job row. */
export interface JobTaskPayload {
  jobId: string;
  tenantId: string;
}
