import type { FormattedExecutionResult } from 'graphql';
import type { ConversationEventFeed, ConversationEventMessage } from './conversation-event.feed.js';

/** Events one slow subscriber may have waiting; beyond it the oldest are dropped (the conversation stays readable). */
const maximumWaiting = 500;

/**
 * One `conversationEvents` subscription as the results graphql-ws sends: each event of the
 * caller's tenant (of one conversation, when given), executed with the client's selection, in
 * order. It never completes by itself; the client ends it. An iterator object rather than an async
 * generator, for the reason given in job-progress.stream.ts: `return()` may come before `next()`.
 */
class ConversationEventStream implements AsyncIterableIterator<FormattedExecutionResult> {
  private readonly waiting: ConversationEventMessage[] = [];
  private wake: (() => void) | null = null;
  private done = false;
  private stopFollowing: () => Promise<void> = async () => {};

  constructor(
    private readonly execute: (event: ConversationEventMessage) => Promise<FormattedExecutionResult>,
    private readonly onEnd: () => void,
  ) {}

  push(event: ConversationEventMessage): void {
    if (this.done) return;
    this.waiting.push(event);
    if (this.waiting.length > maximumWaiting) this.waiting.shift();
    this.wake?.();
  }

  follow(stop: () => Promise<void>): void {
    this.stopFollowing = stop;
  }

  async next(): Promise<IteratorResult<FormattedExecutionResult>> {
    while (!this.done && this.waiting.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    const event = this.waiting.shift();
    if (this.done || !event) return this.finish();
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
    if (!this.done) {
      this.done = true;
      this.waiting.length = 0;
      this.wake?.();
      this.onEnd();
      await this.stopFollowing();
    }
    return { value: undefined, done: true };
  }
}

export interface OpenConversationEventStreamOptions {
  feed: ConversationEventFeed;
  tenantId: string;
  /** Only this conversation's events; all of the tenant's when null. */
  conversationId: string | null;
  execute: (event: ConversationEventMessage) => Promise<FormattedExecutionResult>;
  onEnd?: () => void;
}

export async function openConversationEventStream(options: OpenConversationEventStreamOptions): Promise<AsyncIterableIterator<FormattedExecutionResult>> {
  const stream = new ConversationEventStream(options.execute, options.onEnd ?? (() => {}));
  const wanted = options.conversationId?.toLowerCase() ?? null;
  const stop = await options.feed.follow(options.tenantId, (event) => {
    if (wanted === null || event.conversationId === wanted) stream.push(event);
  });
  stream.follow(stop);
  return stream;
}
