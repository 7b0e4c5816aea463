import { randomUUID } from 'node:crypto';
import type { CallerContext } from '@gtm/caller';
import type { NextFunction, Request, Response } from 'express';
import type { AuthenticatedKey } from '../api-key/api-key.authenticator.js';
import { authenticatedKeyOf } from '../api-key/authentication.middleware.js';

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** A client's own request id when it is safe to log and echo, else a new one. */
function requestIdFor(request: Request): string {
  const offered = request.header('x-request-id');
  return offered && requestIdPattern.test(offered) ? offered : randomUUID();
}

/** The caller the subgraphs will see for a request made with a valid key. */
export function callerFor(authenticatedKey: AuthenticatedKey, requestId: string): CallerContext {
  return {
    tenantId: authenticatedKey.tenantId,
    tenantSlug: authenticatedKey.tenantSlug,
    keyId: authenticatedKey.keyId,
    tier: authenticatedKey.tier,
    scopes: authenticatedKey.scopes,
    requestId,
  };
}

/** Gives each /graphql request its id once, and echoes it, refusals included. */
export function assignRequestId(request: Request, response: Response, next: NextFunction): void {
  const requestId = requestIdFor(request);
  response.locals['requestId'] = requestId;
  response.setHeader('x-request-id', requestId);
  next();
}

/** After authentication: the caller of this request, built once for every later step. */
export function assignCaller(_request: Request, response: Response, next: NextFunction): void {
  const authenticatedKey = authenticatedKeyOf(response);
  if (authenticatedKey) response.locals['caller'] = callerFor(authenticatedKey, response.locals['requestId'] as string);
  next();
}

export function callerOf(response: Response): CallerContext | undefined {
  return response.locals['caller'] as CallerContext | undefined;
}

/** In place of authentication, for benchmarks only: every request is this caller. */
export function assignFixedCaller(caller: CallerContext) {
  return (_request: Request, response: Response, next: NextFunction): void => {
    response.locals['caller'] = { ...caller, requestId: response.locals['requestId'] as string };
    next();
  };
}
