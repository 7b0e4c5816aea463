import type { Logger, Redis } from '@gtm/runtime';
import { createJobProgressStore, jobProgressChannel, parseJobProgressMessage, type JobProgressEvent, type JobProgressStore } from './job-progress.js';

export type JobProgressListener = (event: JobProgressEvent) => void;

export interface JobProgressFeed {
  /**
   * Starts listening to a job's changes. Resolves once Redis has confirmed the subscription, so a
   * snapshot read afterwards plus the events delivered from now on miss nothing (an event may
   * repeat what the snapshot already shows: compare sequences). Resolves with the function that
   * stops listening.
   */
  follow(jobId: string, listener: JobProgressListener): Promise<() => Promise<void>>;
  /** The latest snapshot (see `JobProgressStore.read`). */
  read(jobId: string): Promise<JobProgressEvent | null>;
  /** Jobs with at least one listener in this process. */
  readonly followedJobs: number;
  close(): Promise<void>;
}

export interface CreateJobProgressFeedOptions {
  /** A connected client: read from directly, and duplicated once for the subscriber connection. */
  redis: Redis;
  logger: Logger;
}

interface FollowedJob {
  listeners: Set<JobProgressListener>;
  /** SUBSCRIBE and UNSUBSCRIBE of this job, one after another. */
  settled: Promise<void>;
}

/**
 * One Redis subscriber connection per process, shared by every subscription to job progress: a
 * channel is subscribed while at least one listener follows its job. Events published while the
 * connection was down are not replayed by Redis, so after a reconnect every followed job's
 * snapshot is read again and handed to its listeners; a terminal status is never missed.
 */
export function createJobProgressFeed(options: CreateJobProgressFeedOptions): JobProgressFeed {
  const { redis, logger } = options;
  const store: JobProgressStore = createJobProgressStore({ redis });
  const subscriber = redis.duplicate();
  const followed = new Map<string, FollowedJob>();
  const channelPrefix = jobProgressChannel(redis, '');
  let connecting: Promise<void> | null = null;
  let connectedBefore = false;

  const dispatch = (jobId: string, event: JobProgressEvent) => {
    for (const listener of followed.get(jobId)?.listeners ?? []) {
      try {
        listener(event);
      } catch (error) {
        logger.error({ err: error, jobId }, 'a job progress listener failed');
      }
    }
  };

  subscriber.on('message', (channel: string, message: string) => {
    const event = parseJobProgressMessage(message);
    if (!event || !channel.startsWith(channelPrefix)) return;
    dispatch(channel.slice(channelPrefix.length), event);
  });
  subscriber.on('ready', () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    for (const jobId of followed.keys()) {
      store.read(jobId).then(
        (event) => event && dispatch(jobId, event),
        (error: unknown) => logger.warn({ err: error, jobId }, 'could not re-read job progress after reconnecting to Redis'),
      );
    }
  });
  subscriber.on('error', (error: unknown) => logger.warn({ err: error }, 'job progress subscriber: Redis error'));

  const connect = () => {
    connecting ??= subscriber.connect().catch((error: unknown) => {
      connecting = null;
      throw error;
    });
    return connecting;
  };

  return {
    async follow(jobId, listener) {
      await connect();
      let job = followed.get(jobId);
      if (!job) {
        job = { listeners: new Set(), settled: Promise.resolve() };
        followed.set(jobId, job);
      }
      const current = job;
      const first = current.listeners.size === 0;
      current.listeners.add(listener);
      if (first) current.settled = current.settled.then(() => subscriber.subscribe(jobProgressChannel(redis, jobId))).then(() => undefined);
      try {
        await current.settled;
      } catch (error) {
        current.listeners.delete(listener);
        current.settled = Promise.resolve();
        if (current.listeners.size === 0) followed.delete(jobId);
        throw error;
      }
      let stopped = false;
      return async () => {
        if (stopped) return;
        stopped = true;
        current.listeners.delete(listener);
        if (current.listeners.size > 0) return;
        current.settled = current.settled
          .then(async () => {
            // Someone may have started following again while this was queued.
            if (current.listeners.size > 0) return;
            followed.delete(jobId);
            await subscriber.unsubscribe(jobProgressChannel(redis, jobId));
          })
          .catch((error: unknown) => logger.warn({ err: error, jobId }, 'could not unsubscribe from job progress'));
        await current.settled;
      };
    },
    read: (jobId) => store.read(jobId),
    get followedJobs() {
      return followed.size;
    },
    async close() {
      followed.clear();
      if (connecting) await subscriber.quit().catch(() => subscriber.disconnect());
      else subscriber.disconnect();
    },
  };
}
