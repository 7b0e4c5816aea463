import type { Logger } from '@gtm/runtime';
import type { JobProgressSnapshot, JobProgressStore } from './job-progress.js';

export interface ThrottledProgressOptions {
  store: Pick<JobProgressStore, 'write'>;
  logger: Logger;
  /** Least time between two writes of one job's progress. Default: 100 ms (at most ~10 events a second). */
  intervalMs?: number;
  /** The clock, in milliseconds. Default: `performance.now`. */
  now?: () => number;
  /** Runs `callback` after `delayMs`; returns a canceller. Default: an unref'd `setTimeout`. */
  schedule?: (callback: () => void, delayMs: number) => () => void;
}

export interface ThrottledProgress {
  /**
   * Notes the job's latest state. Written at once when the last write is at least the interval
   * ago; otherwise at the end of the interval, and then only the latest state noted meanwhile
   * (the trailing edge: the last change before a pause is never lost).
   */
  update(snapshot: JobProgressSnapshot): void;
  /** Writes this (terminal) state at once, in place of anything pending; resolves once written. */
  finish(snapshot: JobProgressSnapshot): Promise<void>;
  /** Writes a pending state now; resolves once everything noted so far is written. */
  flush(): Promise<void>;
}

function defaultSchedule(callback: () => void, delayMs: number): () => void {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Throttles one job's progress writes. A worker may finish thousands of items a second; listeners
 * need a few updates a second, and every write is a Redis round trip plus one GraphQL execution per
 * subscriber at the gateway. Writes go out one after another, so they reach Redis in order, and a
 * failed write is logged, never thrown: progress is a view of the job row, not the job itself.
 */
export function createThrottledProgress(options: ThrottledProgressOptions): ThrottledProgress {
  const { store, logger } = options;
  const intervalMs = options.intervalMs ?? 100;
  const now = options.now ?? (() => performance.now());
  const schedule = options.schedule ?? defaultSchedule;
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let pending: JobProgressSnapshot | null = null;
  let cancelTimer: (() => void) | null = null;
  let writing: Promise<void> = Promise.resolve();

  const write = (snapshot: JobProgressSnapshot): Promise<void> => {
    lastWriteAt = now();
    writing = writing
      .then(() => store.write(snapshot))
      .then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error, jobId: snapshot.jobId }, 'could not publish job progress'),
      );
    return writing;
  };

  const writePending = (): Promise<void> => {
    cancelTimer?.();
    cancelTimer = null;
    if (!pending) return writing;
    const snapshot = pending;
    pending = null;
    return write(snapshot);
  };

  return {
    update(snapshot) {
      pending = snapshot;
      if (cancelTimer) return;
      const wait = lastWriteAt + intervalMs - now();
      if (wait <= 0) void writePending();
      else cancelTimer = schedule(() => void writePending(), wait);
    },
    finish(snapshot) {
      cancelTimer?.();
      cancelTimer = null;
      pending = null;
      return write(snapshot);
    },
    flush: writePending,
  };
}
