import type { CallerContext } from '@gtm/caller';
import type { JobProgressEvent } from '@gtm/jobs';
import type { Logger } from '@gtm/runtime';
import type { ConversationEventMessage } from './conversation-events/conversation-event.feed.js';
import type { RateLimitDecision } from './rate-limit/rate-limiter.js';
import type { RequestMeter } from './usage/request-metering.js';

/** One gateway request: who is calling, the signed token forwarded to subgraphs, and a logger. */
export interface GatewayContext {
  caller: CallerContext;
  callerToken: string;
  /**
   * A longer-lived token of the same caller, signed on first use, for the subgraphs that start
   * background work on a mutation (`CALLER_DELEGATION_SUBGRAPHS`). Absent where none is signed.
   */
  delegatedCallerToken?: () => Promise<string>;
  requestId: string;
  logger: Logger;
  /** The gateway's origin as the client reached it, sent to subgraphs for the file links they issue. */
  publicUrl?: string;
  /** When the operation must be done (`performance.now()` time): every subgraph fetch ends by then. */
  deadline: number;
  /**
   * The rate-limit decision of an HTTP request, still being made while the operation is parsed and
   * planned; awaited before it runs. Absent for WebSocket operations, decided before they start.
   */
  rateLimitDecision?: Promise<RateLimitDecision>;
  /** Filled in as the operation runs; recorded as usage when the answer has gone out. */
  meter?: RequestMeter;
  /** Set while a subscription event is executed: the job progress this execution answers with. */
  jobProgress?: JobProgressEvent;
  /** Set while a conversationEvents event is executed: the event this execution answers with. */
  conversationEvent?: ConversationEventMessage;
}

/**
 * A request's context whose `logger` is made when first read: most requests log nothing, and pino
 * serializes a child's bindings when it is made. Apollo Server copies the context before it runs
 * the operation (its own enumerable properties onto an object of the same prototype), which would
 * read a getter of the object's own, making the logger for every request; a getter on the
 * prototype is carried over unread. The copy and the original share the one logger.
 */
export function contextWithLoggerOnFirstUse(fields: Omit<GatewayContext, 'logger'>, loggerOf: () => Logger): GatewayContext {
  const context: GatewayContext & { requestLogger: () => Logger } = Object.create(loggerOnFirstUse);
  return Object.assign(context, fields, { requestLogger: loggerOf });
}

// One prototype for every request's context, so they all share one shape.
const loggerOnFirstUse = {
  get logger(): Logger {
    return (this as unknown as { requestLogger: () => Logger }).requestLogger();
  },
};
