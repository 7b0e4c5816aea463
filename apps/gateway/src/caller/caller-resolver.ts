import { randomUUID } from 'node:crypto';
import type { CallerContext } from '@gtm/caller';
import type { Request } from 'express';
import type { AuthenticatedKey } from '../api-key/api-key.authenticator.js';

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** A client's own request id when it is safe to log and echo, else a new one. */
export function requestIdFor(request: Request): string {
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
