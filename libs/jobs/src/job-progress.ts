import type { Redis } from '@gtm/runtime';
import { JobStatus, type Job } from './job.entity.js';

/** The entity a job works on, as a GraphQL type name and id (`EnrichmentJob`, `Campaign` …). */
export interface JobSubject {
  type: string;
  id: string;
}

/**
 * A job's progress as the gateway serves it (the API's `JobProgress`), plus the tenant,
 * which the gateway checks and never shows.
 */
export interface JobProgressSnapshot {
  jobId: string;
  tenantId: string;
  kind: string;
  status: JobStatus;
  total: number;
  completed: number;
  failed: number;
  message: string | null;
  /** ISO 8601. */
  updatedAt: string;
  subject: JobSubject | null;
}

/** A snapshot as stored and published: `sequence` grows by one with every accepted change of a job. */
export interface JobProgressEvent {
  sequence: number;
  snapshot: JobProgressSnapshot;
}

export function snapshotOf(job: Job): JobProgressSnapshot {
  return {
    jobId: job.id,
    tenantId: job.tenantId,
    kind: job.kind,
    status: job.status,
    total: job.total,
    completed: job.completed,
    failed: job.failed,
    message: job.message,
    updatedAt: job.updatedAt.toISOString(),
    subject: job.subjectType && job.subjectId ? { type: job.subjectType, id: job.subjectId } : null,
  };
}

/** The key of a job's snapshot, before the client's own key prefix. */
function snapshotKey(jobId: string): string {
  return `job-progress:${jobId}`;
}

/**
 * The channel a job's changes are published on. ioredis prefixes keys but not channels, so the
 * client's prefix is added here: two deployments sharing a Redis never hear each other.
 */
export function jobProgressChannel(redis: Redis, jobId: string): string {
  return `${redis.options.keyPrefix ?? ''}${snapshotKey(jobId)}`;
}

/** QUEUED < RUNNING < finished (2): a snapshot never moves a job back along this order. */
function stageOf(status: JobStatus): number {
  if (status === JobStatus.QUEUED) return 0;
  if (status === JobStatus.RUNNING) return 1;
  return 2;
}

// Stores and publishes in one step, so readers and listeners never disagree, and refuses a change
// that would move the job backwards: anything after a terminal snapshot (a worker's last throttled
// update landing after the cancellation), an earlier stage (the submitter's QUEUED arriving after
// the worker's first RUNNING), or fewer processed items than already shown (two writers racing).
// Reply: the new sequence, or 0 when refused.
const writeScript = `
local current = redis.call('HMGET', KEYS[1], 'sequence', 'stage', 'processed')
local stage = tonumber(ARGV[2])
local processed = tonumber(ARGV[3])
if current[2] then
  local currentStage = tonumber(current[2])
  if currentStage == 2 then return 0 end
  if stage < currentStage then return 0 end
  if stage == currentStage and processed < tonumber(current[3]) then return 0 end
end
local sequence = tonumber(current[1] or '0') + 1
redis.call('HSET', KEYS[1], 'sequence', sequence, 'stage', stage, 'processed', processed, 'snapshot', ARGV[1])
if stage == 2 then redis.call('EXPIRE', KEYS[1], ARGV[6]) else redis.call('EXPIRE', KEYS[1], ARGV[5]) end
redis.call('PUBLISH', ARGV[4], '{"sequence":' .. sequence .. ',"snapshot":' .. ARGV[1] .. '}')
return sequence
`;

const writeCommand = 'gtmJobProgressWrite';

// Puts back a snapshot Redis no longer has (it restarted empty, or lost it), from the job row, and
// publishes it; a job Redis still knows is left alone, since Redis is then at least as recent.
// Reply: the sequence written, or 0 when the job was known.
const restoreScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'sequence', 1, 'stage', ARGV[2], 'processed', ARGV[3], 'snapshot', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('PUBLISH', ARGV[4], '{"sequence":1,"snapshot":' .. ARGV[1] .. '}')
return 1
`;

const restoreCommand = 'gtmJobProgressRestore';

interface JobProgressCommands {
  [writeCommand](key: string, snapshot: string, stage: number, processed: number, channel: string, activeSeconds: number, finishedSeconds: number): Promise<number>;
  [restoreCommand](key: string, snapshot: string, stage: number, processed: number, channel: string, keepSeconds: number): Promise<number>;
}

export interface CreateJobProgressStoreOptions {
  /** A connected client; its `keyPrefix` applies to keys and channels alike. */
  redis: Redis;
  /** How long a finished job's snapshot is kept, so a late subscriber still sees the end. Default: 86 400 s (a day). */
  finishedRetentionSeconds?: number;
  /** How long an unfinished job's snapshot is kept after its last change. Default: 604 800 s (a week). */
  activeRetentionSeconds?: number;
}

export interface JobProgressStore {
  /** Stores the job's latest snapshot and publishes it; null when refused as a step backwards. */
  write(snapshot: JobProgressSnapshot): Promise<JobProgressEvent | null>;
  /** The latest snapshot, or null when the job is unknown or its snapshot has expired. */
  read(jobId: string): Promise<JobProgressEvent | null>;
  /**
   * Writes and publishes a snapshot made from the job row when Redis has none for the job (see
   * `startJobProgressRestorer`); true when it was missing. A finished job is kept for what is left
   * of its retention, counted from `finishedAt`.
   */
  restore(snapshot: JobProgressSnapshot, finishedAt: Date | null): Promise<boolean>;
}

/** Where job progress lives in Redis: one hash per job (latest snapshot) and one channel per job (changes). */
export function createJobProgressStore(options: CreateJobProgressStoreOptions): JobProgressStore {
  const finishedSeconds = options.finishedRetentionSeconds ?? 86_400;
  const activeSeconds = options.activeRetentionSeconds ?? 604_800;
  // Defining a command again on the same client (a second store) replaces it with the same script.
  options.redis.defineCommand(writeCommand, { numberOfKeys: 1, lua: writeScript });
  options.redis.defineCommand(restoreCommand, { numberOfKeys: 1, lua: restoreScript });
  const redis = options.redis as Redis & JobProgressCommands;

  return {
    async write(snapshot) {
      const processed = snapshot.completed + snapshot.failed;
      const stage = stageOf(snapshot.status);
      const sequence = await redis[writeCommand](
        snapshotKey(snapshot.jobId),
        JSON.stringify(snapshot),
        stage,
        processed,
        jobProgressChannel(redis, snapshot.jobId),
        activeSeconds,
        finishedSeconds,
      );
      return sequence > 0 ? { sequence, snapshot } : null;
    },
    async restore(snapshot, finishedAt) {
      const stage = stageOf(snapshot.status);
      const keepSeconds = stage === 2 ? Math.ceil(finishedSeconds - (Date.now() - (finishedAt ?? new Date(snapshot.updatedAt)).getTime()) / 1000) : activeSeconds;
      if (keepSeconds <= 0) return false;
      const restored = await redis[restoreCommand](
        snapshotKey(snapshot.jobId),
        JSON.stringify(snapshot),
        stage,
        snapshot.completed + snapshot.failed,
        jobProgressChannel(redis, snapshot.jobId),
        keepSeconds,
      );
      return restored === 1;
    },
    async read(jobId) {
      const [sequence, snapshot] = await redis.hmget(snapshotKey(jobId), 'sequence', 'snapshot');
      if (!sequence || !snapshot) return null;
      return { sequence: Number(sequence), snapshot: JSON.parse(snapshot) as JobProgressSnapshot };
    },
  };
}

/** Parses a message of a job's channel; null for anything that is not one of ours. */
export function parseJobProgressMessage(message: string): JobProgressEvent | null {
  try {
    const parsed = JSON.parse(message) as Partial<JobProgressEvent>;
    if (typeof parsed.sequence !== 'number' || typeof parsed.snapshot?.jobId !== 'string') return null;
    return parsed as JobProgressEvent;
  } catch {
    return null;
  }
}
