import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { CallerContext } from '@gtm/caller';
import type { Request, RequestHandler, Response } from 'express';
import { createRateLimitCheck, rateLimitErrorBody, sendRateLimited, setRateLimitHeaders, type CreateRateLimitMiddlewareOptions } from './rate-limit.middleware.js';
import type { RateLimitDecision } from './rate-limiter.js';

const pendingDecisionKey = 'rateLimitDecision';

export interface RateLimitAdmission {
  /**
   * Mount after authentication: sends the caller's rate-limit check to Redis and lets the request
   * go on (body parsing, Apollo's parsing, validation and planning) while Redis answers.
   */
  start: RequestHandler;
  /**
   * Waits for the decision of a request `start` counted and sets its RateLimit-* headers. When the
   * caller is over its limit it sends the 429 and resolves false: whatever the request would have
   * been answered with (a body, parse or validation error included) is then not sent. Resolves
   * true when the request may get its own answer, and for requests `start` did not count.
   */
  admit(response: Response): Promise<boolean>;
}

/** The decision `start` began for this request, if it counted it. */
export function rateLimitDecisionOf(response: Response): Promise<RateLimitDecision> | undefined {
  return response.locals[pendingDecisionKey] as Promise<RateLimitDecision> | undefined;
}

/**
 * The rate limit of `/graphql`, decided beside the request instead of in front of it. The count in
 * Redis is exactly the one `createRateLimitMiddleware` keeps (the same check, shared with the
 * WebSocket server); what changes is when the request waits for it: not before it is read, but
 * before it is executed (`useRateLimitGate`) or answered (`admit`), whichever comes first. A caller
 * over its limit gets the same 429 as before, whatever was wrong with its request, and its
 * operation never reaches a subgraph.
 */
export function createRateLimitAdmission(options: CreateRateLimitMiddlewareOptions): RateLimitAdmission {
  const { limiter, callerOf } = options;
  const check = options.check ?? createRateLimitCheck(options);
  const callers = new WeakMap<Response, CallerContext>();

  return {
    start(request: Request, response: Response, next) {
      // A CORS preflight is sent by the browser on its own: it must not use up the budget of the
      // request it precedes.
      if (request.method === 'OPTIONS') return next();
      const caller = callerOf(request, response);
      if (!caller) return next();
      const decision = check(caller);
      // Handled here too, so a request answered without waiting (the client went away, an error
      // handler answered) leaves no unhandled rejection; `admit` still sees the failure.
      decision.catch(() => undefined);
      callers.set(response, caller);
      response.locals[pendingDecisionKey] = decision;
      next();
    },

    async admit(response) {
      const pending = rateLimitDecisionOf(response);
      const caller = callers.get(response);
      if (!pending || !caller) return true;
      const decision = await pending;
      if (response.headersSent) return decision.allowed;
      setRateLimitHeaders(response, limiter.limits, caller, decision);
      if (decision.allowed) return true;
      sendRateLimited(response, caller, decision);
      return false;
    },
  };
}

export interface RateLimitGateOptions<Context> {
  /** The request's pending decision (`rateLimitDecisionOf`); none for operations counted before they started (WebSocket). */
  decisionOf: (context: Context) => Promise<RateLimitDecision> | undefined;
  callerOf: (context: Context) => CallerContext | undefined;
}

/**
 * The last moment an HTTP operation waits for its rate-limit decision: after parsing, validation
 * and the other checks, before execution. A refused operation is not executed, so it reaches no
 * subgraph; the answer it gets is replaced by the 429 where it is sent (`RateLimitAdmission.admit`),
 * and is a 429 here too so that nothing else could ever go out for it.
 */
export function useRateLimitGate<Context extends object>(options: RateLimitGateOptions<Context>): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation({ contextValue }): Promise<GraphQLResponse | null> {
          const pending = options.decisionOf(contextValue);
          const caller = options.callerOf(contextValue);
          if (!pending || !caller) return null;
          const decision = await pending;
          if (decision.allowed) return null;
          return {
            http: { status: 429, headers: new HeaderMap([['retry-after', String(decision.resetSeconds)]]) },
            body: { kind: 'single', singleResult: rateLimitErrorBody(caller, decision) },
          };
        },
      };
    },
  };
}

/** Resolves whether the request behind `context` is within its rate limit; true when it was counted before it started. */
export async function admittedOf<Context>(options: RateLimitGateOptions<Context>, context: Context): Promise<boolean> {
  const pending = options.decisionOf(context);
  return pending ? (await pending).allowed : true;
}
