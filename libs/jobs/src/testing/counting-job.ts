// A kind of job for the library's own tests: items 0 … total-1, each one written as a row of
// `processed_item`, a table with no unique constraint, so an item processed twice shows as two rows.
// Shared by the in-process tests and the worker process they start and kill.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { defineJobKind, type JobKind } from '../job-kind.js';
import { CreateJobTables } from '../job.migration.js';

export const countingSchema = 'jobs_test';
export const countingWorkerSchema = 'jobs_test_worker';

class CreateProcessedItems extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table processed_item (job_id uuid not null, item integer not null, pid integer not null)`);
  }
}

export const countingMigrations: MigrationObject[] = [
  { name: '1-create-job-tables', class: CreateJobTables },
  { name: '2-create-processed-items', class: CreateProcessedItems },
];

export interface CountingBehaviour {
  /** Runs before an item is processed; may wait, or throw to fail the attempt. */
  beforeItem?: (item: number, jobId: string) => Promise<void> | void;
  /** Items that count as failed rather than completed. */
  failedItems?: ReadonlySet<number>;
  /** Queue of a job. Default: none. */
  queueOf?: (jobId: string) => string | undefined;
  /** Default: 5. */
  maxAttempts?: number;
  /** Items processed at once. Default: 1. */
  concurrency?: number;
}

export function createCountingKind(behaviour: CountingBehaviour = {}): JobKind<number> {
  return defineJobKind<number>({
    kind: 'counting',
    maxAttempts: behaviour.maxAttempts,
    concurrency: behaviour.concurrency,
    queueOf: behaviour.queueOf ? (job) => behaviour.queueOf?.(job.id) : undefined,
    items: ({ job }) => Array.from({ length: job.total }, (_, index) => index),
    itemKey: (item) => String(item),
    async processItem(item, { job }) {
      await behaviour.beforeItem?.(item, job.id);
      return {
        outcome: behaviour.failedItems?.has(item) ? 'failed' : 'completed',
        save: async (transaction) => {
          await transaction.execute(`insert into ${countingSchema}.processed_item (job_id, item, pid) values (?, ?, ?)`, [job.id, item, process.pid]);
        },
      };
    },
  });
}
