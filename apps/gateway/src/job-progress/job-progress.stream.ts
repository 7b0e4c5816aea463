import { isTerminal, type JobProgressEvent, type JobProgressFeed } from '@gtm/jobs';
import { ErrorCode } from '@gtm/runtime';
import type { FormattedExecutionResult } from 'graphql';

export interface OpenJobProgressStreamOptions {
  feed: JobProgressFeed;
  jobId: string;
  /** Only a job of this tenant is streamed. */
  tenantId: string;
  /** Answers the client's selection set for one event. */
  execute: (event: JobProgressEvent) => Promise<FormattedExecutionResult>;
  /** Called once when the stream ends, however it ends. Default: nothing. */
  onEnd?: () => void;
  /**
   * How long the stream waits for Redis to come back when its connection is lost. Back in time, the
   * stream resumes from the job's current state; not, it ends with UPSTREAM_UNAVAILABLE, so the
   * client knows to subscribe again. Default: 30 000 ms.
   */
  outageGraceMs?: number;
}

/** The last result of a stream whose Redis stayed away: the client subscribes again later. */
function storeUnavailableResult(outageGraceMs: number): FormattedExecutionResult {
  return {
    errors: [
      {
        message: `Job progress is unavailable: its store (Redis) has not answered for ${Math.round(outageGraceMs / 1000)} seconds. Subscribe again shortly; the subscription then starts from the job's current state.`,
        extensions: { code: ErrorCode.UpstreamUnavailable },
      },
    ],
  };
}

/**
 * One subscription to a job's progress, as the results graphql-ws sends: the current snapshot
 * first, then each change, and the end after a terminal status.
 *
 * Written as an iterator object rather than an async generator because graphql-ws may call
 * `return()` before the first `next()` (the client completed, or left, while the subscription was
 * starting), and a generator that never started skips its `finally`: the Redis listener would leak.
 *
 * Only the latest event waits to be sent: a client slower than the job's events gets the newest
 * state each time instead of an ever longer backlog, and memory per subscription stays constant.
 * The terminal event can never be replaced (nothing follows it), so it is always sent.
 */
class JobProgressStream implements AsyncIterableIterator<FormattedExecutionResult> {
  private pending: JobProgressEvent | null = null;
  /** The last result to send instead of events (Redis stayed away). */
  private failure: FormattedExecutionResult | null = null;
  private newestSequence = 0;
  private wake: (() => void) | null = null;
  private state: 'open' | 'finishing' | 'done' = 'open';
  private stopFollowing: () => Promise<void> = async () => {};

  constructor(
    private readonly execute: (event: JobProgressEvent) => Promise<FormattedExecutionResult>,
    private readonly onEnd: () => void,
  ) {}

  /** Takes an event from Redis; older than one already taken (or a repeat) is dropped. */
  push(event: JobProgressEvent): void {
    if (this.state !== 'open' || event.sequence <= this.newestSequence) return;
    this.newestSequence = event.sequence;
    this.pending = event;
    this.wake?.();
  }

  /**
   * Redis is back, maybe empty and numbering the job's changes from 1 again: the next event is taken
   * whatever its sequence (the store never moves a job backwards, so it is not older than the last).
   */
  resume(): void {
    this.newestSequence = 0;
  }

  /** Ends the stream with `result` instead of the job's next event. */
  fail(result: FormattedExecutionResult): void {
    if (this.state !== 'open') return;
    this.failure = result;
    this.wake?.();
  }

  /** Becomes ready once following; `stop` ends the following. */
  follow(stop: () => Promise<void>): void {
    this.stopFollowing = stop;
  }

  async next(): Promise<IteratorResult<FormattedExecutionResult>> {
    while (this.state === 'open' && !this.pending && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    if (this.state === 'open' && this.failure) {
      this.state = 'finishing';
      return { value: this.failure, done: false };
    }
    const event = this.pending;
    // Closed meanwhile, or the terminal event went out on the previous call.
    if (this.state !== 'open' || !event) return this.finish();
    this.pending = null;
    if (isTerminal(event.snapshot.status)) this.state = 'finishing';
    return { value: await this.execute(event), done: false };
  }

  async return(): Promise<IteratorResult<FormattedExecutionResult>> {
    return this.finish();
  }

  async throw(error: unknown): Promise<IteratorResult<FormattedExecutionResult>> {
    await this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async finish(): Promise<IteratorResult<FormattedExecutionResult>> {
    if (this.state !== 'done') {
      this.state = 'done';
      this.pending = null;
      this.wake?.();
      this.onEnd();
      await this.stopFollowing();
    }
    return { value: undefined, done: true };
  }
}

/**
 * Starts following a job for one subscriber: listens on the job's channel first, then reads its
 * snapshot, so no change falls between the two. Null (and nothing left listening) when the job is
 * unknown, its snapshot has expired, or it belongs to another tenant: the caller answers all three
 * alike.
 */
export async function openJobProgressStream(options: OpenJobProgressStreamOptions): Promise<AsyncIterableIterator<FormattedExecutionResult> | null> {
  const outageGraceMs = options.outageGraceMs ?? 30_000;
  const stream = new JobProgressStream(options.execute, options.onEnd ?? (() => {}));
  const stopFollowing = await options.feed.follow(options.jobId, (event) => stream.push(event));
  let outage: NodeJS.Timeout | undefined;
  const stopWatching = options.feed.onConnectionChange((state) => {
    clearTimeout(outage);
    if (state === 'restored') {
      stream.resume();
      return;
    }
    outage = setTimeout(() => stream.fail(storeUnavailableResult(outageGraceMs)), outageGraceMs);
    outage.unref();
  });
  const stop = async () => {
    clearTimeout(outage);
    stopWatching();
    await stopFollowing();
  };
  try {
    const current = await options.feed.read(options.jobId);
    if (!current || current.snapshot.tenantId !== options.tenantId) {
      await stop();
      return null;
    }
    stream.follow(stop);
    stream.push(current);
    return stream;
  } catch (error) {
    await stop();
    throw error;
  }
}
