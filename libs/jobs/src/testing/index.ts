import { randomUUID } from 'node:crypto';
import { JobStatus } from '../job.entity.js';
import type { JobProgressSnapshot } from '../job-progress.js';

/** A RUNNING job's snapshot of a fresh job and tenant, for tests that play a worker's part. */
export function testJobProgressSnapshot(overrides: Partial<JobProgressSnapshot> = {}): JobProgressSnapshot {
  return {
    jobId: randomUUID(),
    tenantId: randomUUID(),
    kind: 'counting',
    status: JobStatus.RUNNING,
    total: 10,
    completed: 0,
    failed: 0,
    message: null,
    updatedAt: new Date().toISOString(),
    subject: null,
    ...overrides,
  };
}
