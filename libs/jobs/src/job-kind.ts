import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager, Logger } from '@gtm/runtime';
import type { Job, JobStatus } from './job.entity.js';

/** What processing one item came to. */
export interface JobItemResult {
  outcome: 'completed' | 'failed';
  /**
   * Writes the item's results. Called inside the transaction that also records the item as
   * processed and counts it, so the three are committed together or not at all. Default: nothing
   * to write.
   */
  save?: (transaction: EntityManager) => Promise<void>;
  /** The job's message once the item is committed ("Built TARGET_PERSONA."). Default: unchanged. */
  message?: string | null;
}

/** How a job that went through all its items ends. */
export interface JobConclusion {
  /** SUCCEEDED unless the kind says the job as a whole failed (its goal was not reached). Default: SUCCEEDED. */
  status?: JobStatus.SUCCEEDED | JobStatus.FAILED;
  /** What the user reads. Default: the message as it stands. */
  message?: string | null;
}

/** What a kind's functions are given while one of its jobs runs. */
export interface JobRunContext<JobEntity extends Job, State = undefined> extends JobAttempt<JobEntity> {
  /** What `startAttempt` made for this attempt; undefined for a kind without it. */
  state: State;
}

/** One attempt at running a job: the job, where to read and write, and whether to stop. */
export interface JobAttempt<JobEntity extends Job> {
  /**
   * The job as it was when this run started, kept current by the run (its counters) and published
   * from: a kind that learns its `total` as it goes (items read from another service a page at a
   * time) sets it here, and the next progress snapshot carries it.
   */
  job: JobEntity;
  /** Scoped to the job's tenant; not in a transaction. */
  em: EntityManager;
  logger: Logger;
  /**
   * Aborted when the worker must stop (shutdown); long calls in `processItem` should honour it.
   * An item that fails because of it is not a failed attempt: the job is handed back.
   */
  signal: AbortSignal;
  /** This run's attempt, from 1; the last one is `maxAttempts`. */
  attempt: number;
  maxAttempts: number;
}

/**
 * One sort of job: how to list its items and process one. Processing is split in two on purpose:
 * `processItem` does the slow part (a model call, a fetch) outside any transaction, and returns a
 * `save` that writes the outcome inside the short transaction that records the item as done.
 */
export interface JobKind<Item, JobEntity extends Job = Job, State = undefined> {
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
   * Processes the next item while the previous one commits (commits stay one after the other, in
   * order), taking the commit off the critical path of slow, dependent items. Only for kinds whose
   * `processItem` reads nothing the previous item's `save` writes (what it needs of it, it keeps in
   * memory). An item another run committed first then restarts the attempt. Default: false.
   */
  pipeline?: boolean;
  /**
   * Items processed at the same time within one job, for kinds whose items are independent of one
   * another and wait on slow providers (enrichment: a search, a crawl, a model call per record).
   * Each item is committed on its own as soon as it is processed, so commits no longer follow item
   * order; `describeItem` is not used. Not combinable with `pipeline`. Default: 1 (one after the other).
   */
  concurrency?: number;
  /**
   * What one attempt keeps while it goes through the items, made when the attempt starts (the job
   * is RUNNING) and handed to the kind's other functions as `context.state`: what every item reads
   * (read once, not once per item), and what an item leaves for the next one that the next one
   * cannot read from the database yet (a pipelined kind's). A retry or a resumed job starts a new
   * attempt, and a new state, from what is stored. Default: none.
   */
  startAttempt?(attempt: JobAttempt<JobEntity>): Promise<State>;
  /**
   * Every item of the job, in a stable order. Items already processed (by an earlier attempt or a
   * worker that died) are skipped by key, so this lists all of them every time.
   */
  items(context: JobRunContext<JobEntity, State>): AsyncIterable<Item> | Iterable<Item>;
  /** Identifies an item within its job (at most 500 characters). */
  itemKey(item: Item): string;
  processItem(item: Item, context: JobRunContext<JobEntity, State>): Promise<JobItemResult>;
  /**
   * What the job shows while an item is processed ("Building TARGET_PERSONA (3 of 5)."), written
   * before `processItem` is called. Worth it when items are slow; default: nothing is written.
   */
  describeItem?(item: Item, context: JobRunContext<JobEntity, State>): string;
  /**
   * Called once every item is processed, to end the job: its final status and message. Default:
   * SUCCEEDED with the message as it stands.
   */
  conclude?(context: JobRunContext<JobEntity, State>): Promise<JobConclusion>;
}

/** Declares a kind of job with its types checked (`defineJobKind<Row, EnrichmentJob>({ … })`). */
export function defineJobKind<Item, JobEntity extends Job = Job, State = undefined>(kind: JobKind<Item, JobEntity, State>): JobKind<Item, JobEntity, State> {
  return kind;
}

/** A kind whose item, job and state types no longer matter (lists of kinds). */
export type AnyJobKind = JobKind<any, any, any>;

/** The graphile-worker payload of every job task: just enough to find the job row. */
export interface JobTaskPayload {
  jobId: string;
  tenantId: string;
}
