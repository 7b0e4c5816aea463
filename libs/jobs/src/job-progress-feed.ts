import { closeRedis, type Logger, type Redis } from '@gtm/runtime';
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
  /**
   * Tells `listener` when the subscriber connection is lost (events published meanwhile are
   * missed) and when it is back. On `restored`, before any event: Redis may have come back empty,
   * its sequences starting over, so a follower should take the next event whatever its sequence;
   * every followed job's snapshot is then read again and handed to its listeners. Returns the
   * function that stops telling.
   */
  onConnectionChange(listener: (state: 'lost' | 'restored') => void): () => void;
  /** Jobs with at least one listener in this process. */
  readonly followedJobs: number;
  close(): Promise<void>;
}

export interface CreateJobProgressFeedOptions {
  /** A connected client: read from directly, and duplicated once for the subscriber connection. */
  redis: Redis;
  logger: Logger;
}

/** When, after a reconnect, every followed job's snapshot is read again. */
const rereadDelaysMs = [0, 1_000, 3_000];

interface FollowedJob {
  listeners: Set<JobProgressListener>;
  /** SUBSCRIBE and UNSUBSCRIBE of this job, one after another. */
  settled: Promise<void>;
}

/**
 * One Redis subscriber connection per process, shared by every subscription to job progress: a
 * channel is subscribed while at least one listener follows its job. Events published while the
 * connection was down are not replayed by Redis, so after a reconnect every followed job's
 * snapshot is read again (at once and twice more shortly after) and handed to its listeners; a
 * terminal status is never missed.
 */
export function createJobProgressFeed(options: CreateJobProgressFeedOptions): JobProgressFeed {
  const { redis, logger } = options;
  const store: JobProgressStore = createJobProgressStore({ redis });
  const subscriber = redis.duplicate();
  const followed = new Map<string, FollowedJob>();
  const channelPrefix = jobProgressChannel(redis, '');
  let connecting: Promise<void> | null = null;
  let connectedBefore = false;
  let lost = false;
  let closing = false;
  const connectionListeners = new Set<(state: 'lost' | 'restored') => void>();
  const tell = (state: 'lost' | 'restored') => {
    for (const listener of connectionListeners) {
      try {
        listener(state);
      } catch (error) {
        logger.error({ err: error, state }, 'a job progress connection listener failed');
      }
    }
  };

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
  const rereadFollowed = () => {
    for (const jobId of followed.keys()) {
      store.read(jobId).then(
        (event) => event && dispatch(jobId, event),
        (error: unknown) => logger.warn({ err: error, jobId }, 'could not re-read job progress after reconnecting to Redis'),
      );
    }
  };
  subscriber.on('close', () => {
    if (closing || !connectedBefore || lost) return;
    lost = true;
    logger.warn({ followedJobs: followed.size }, 'job progress subscriber lost its Redis connection; reconnecting');
    tell('lost');
  });
  subscriber.on('ready', () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    lost = false;
    tell('restored');
    // The subscriptions are renewed on the new connection while this runs, and the services put
    // back what an empty Redis lost on their own reconnect: reading again a little later as well
    // catches a snapshot restored between the first read and the renewed subscription.
    for (const delayMs of rereadDelaysMs) {
      const timer = setTimeout(rereadFollowed, delayMs);
      timer.unref();
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
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    get followedJobs() {
      return followed.size;
    },
    async close() {
      closing = true;
      connectionListeners.clear();
      followed.clear();
      if (connecting) await closeRedis(subscriber);
      else subscriber.disconnect();
    },
  };
}
