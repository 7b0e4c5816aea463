import type { CallerContext } from '@gtm/caller';
import { createLogger, ErrorCode, type Logger } from '@gtm/runtime';
import type { Request, RequestHandler, Response } from 'express';
import { createLocalRateLimiter } from './local-rate-limiter.js';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.js';

export interface CreateRateLimitMiddlewareOptions {
  limiter: RateLimiter;
  /** The decision to use, shared with the WebSocket server. Default: one made from these options. */
  check?: RateLimitCheck;
  /**
   * The authenticated caller of a request, as the authentication step left it (for example on
   * `response.locals`). `undefined` lets the request through uncounted: authentication answers
   * anonymous requests before this runs.
   */
  callerOf: (request: Request, response: Response) => CallerContext | undefined;
  /** Where the warning that Redis is away goes. Default: a gateway logger on standard output. */
  logger?: Logger;
  /** Longest a request waits for Redis's answer before this process decides alone. Default: 500 ms. */
  decisionTimeoutMs?: number;
  /** The clock of the local windows and of the warnings, in milliseconds. Default: `Date.now`. */
  now?: () => number;
}

export interface RateLimitErrorBody {
  errors: [
    {
      message: string;
      extensions: { code: typeof ErrorCode.RateLimited; retryAfterSeconds: number; limit: number; window: RateLimitDecision['window'] };
    },
  ];
}

const warningIntervalMilliseconds = 60_000;

class DecisionTimeoutError extends Error {
  override readonly name = 'DecisionTimeoutError';
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

function describeWait(seconds: number): string {
  if (seconds < 120) return plural(seconds, 'second');
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return plural(minutes, 'minute');
  const remainderMinutes = minutes % 60;
  return `${plural(Math.floor(minutes / 60), 'hour')}${remainderMinutes ? ` ${plural(remainderMinutes, 'minute')}` : ''}`;
}

/** The 429 answer: which limit was hit and when to come back, shaped like a GraphQL response. */
export function rateLimitErrorBody(caller: CallerContext, decision: RateLimitDecision): RateLimitErrorBody {
  const who = caller.keyId ? 'per API key' : 'for this tenant';
  const resetNote = decision.window === 'day' ? ' (the daily limit resets at 00:00 UTC)' : '';
  const message =
    `Rate limit exceeded: the ${caller.tier} tier allows ${decision.limit.toLocaleString('en-US')} requests per ${decision.window} ${who}. ` +
    `Retry in ${describeWait(decision.resetSeconds)}${resetNote}.`;
  return {
    errors: [
      { message, extensions: { code: ErrorCode.RateLimited, retryAfterSeconds: decision.resetSeconds, limit: decision.limit, window: decision.window } },
    ],
  };
}

export type RateLimitCheckOptions = Omit<CreateRateLimitMiddlewareOptions, 'callerOf' | 'check'>;

export interface RateLimitCheck {
  /**
   * Counts one request of the caller and decides: in Redis, shared by every gateway process, or,
   * when Redis does not answer in time, by this process's own counts (see `createLocalRateLimiter`).
   */
  (caller: CallerContext): Promise<RateLimitDecision>;
}

/** The rate-limit decision for one request, shared by HTTP requests and WebSocket operations. */
export function createRateLimitCheck(options: RateLimitCheckOptions): RateLimitCheck {
  const { limiter } = options;
  const logger = options.logger ?? createLogger({ service: 'gateway' });
  const decisionTimeoutMs = options.decisionTimeoutMs ?? 500;
  const now = options.now ?? Date.now;
  const local = createLocalRateLimiter({ limits: limiter.limits, now });
  let lastWarningAt = Number.NEGATIVE_INFINITY;
  let decidedLocally = 0;
  let failing = false;

  const decide = async (caller: CallerContext): Promise<RateLimitDecision> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new DecisionTimeoutError(`Redis did not answer within ${decisionTimeoutMs} ms`)), decisionTimeoutMs);
    });
    try {
      return await Promise.race([limiter.consume(caller), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  // Degrade, never open: rate limits protect capacity and cost. Refusing every request while Redis
  // is away would turn a cache outage into a full API outage; letting every request through
  // unchecked would let one client take the capacity of all. Each process enforces the limits on
  // what it sees instead, an approximation (with N processes, up to N times a limit). One warning
  // a minute keeps the outage visible without a line per request.
  const decideLocally = (caller: CallerContext, error: unknown): RateLimitDecision => {
    decidedLocally += 1;
    failing = true;
    const at = now();
    if (at - lastWarningAt >= warningIntervalMilliseconds) {
      lastWarningAt = at;
      logger.warn({ err: error, decidedLocally }, 'rate limits are enforced per gateway process: Redis did not answer, so each process counts only its own requests');
      decidedLocally = 0;
    }
    return local.consume(caller);
  };

  return async (caller) => {
    let decision: RateLimitDecision;
    try {
      decision = await decide(caller);
    } catch (error) {
      return decideLocally(caller, error);
    }
    if (failing) {
      failing = false;
      logger.info('rate limits are shared across gateway processes again: Redis answers');
    }
    if (decision.allowed) local.record(caller);
    return decision;
  };
}

/** The RateLimit-* headers every counted answer carries. */
export function setRateLimitHeaders(response: Response, limits: RateLimiter['limits'], caller: CallerContext, decision: RateLimitDecision): void {
  const tierLimits = limits[caller.tier];
  response.setHeader('RateLimit-Limit', String(decision.limit));
  response.setHeader('RateLimit-Remaining', String(decision.remaining));
  response.setHeader('RateLimit-Reset', String(decision.resetSeconds));
  response.setHeader('RateLimit-Policy', `${tierLimits.perMinute};w=60, ${tierLimits.perDay};w=86400`);
}

/** The refusal: HTTP 429 with `Retry-After` and the code RATE_LIMITED (the RateLimit-* headers are set apart). */
export function sendRateLimited(response: Response, caller: CallerContext, decision: RateLimitDecision): void {
  response.setHeader('Retry-After', String(decision.resetSeconds));
  response.status(429).json(rateLimitErrorBody(caller, decision));
}

/**
 * Enforces the caller's tier limits, waiting for the decision before anything else runs: for
 * routes that stream (file transfers), where nothing can be held back once it has started. Mount
 * it after authentication. Every counted answer carries `RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset` (seconds) and `RateLimit-Policy`; a refusal is HTTP 429 with `Retry-After` and
 * the code RATE_LIMITED. `/graphql` decides while the request is read instead (`createRateLimitAdmission`).
 */
export function createRateLimitMiddleware(options: CreateRateLimitMiddlewareOptions): RequestHandler {
  const { limiter, callerOf } = options;
  const check = options.check ?? createRateLimitCheck(options);

  return (request, response, next) => {
    // A CORS preflight is sent by the browser on its own, not by the client's code: it must not
    // use up the budget of the request it precedes.
    if (request.method === 'OPTIONS') return next();
    const caller = callerOf(request, response);
    if (!caller) return next();

    check(caller)
      .then((decision) => {
        setRateLimitHeaders(response, limiter.limits, caller, decision);
        if (decision.allowed) return next();
        sendRateLimited(response, caller, decision);
      })
      // Whatever went wrong answering goes to the app's error handler, not an unhandled rejection.
      .catch(next);
  };
}
