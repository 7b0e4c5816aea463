import { randomUUID } from 'node:crypto';
import { developmentTenant, type CallerContext } from '@gtm/caller';
import type { Request } from 'express';

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** A client's own request id when it is safe to log and echo, else a new one. */
export function requestIdFor(request: Request): string {
  const offered = request.header('x-request-id');
  return offered && requestIdPattern.test(offered) ? offered : randomUUID();
}

/**
 * Turns a request into the caller the subgraphs will see. API keys arrive with the edge-security
 * work; until then every request runs as the development tenant, and the gateway says so at start
 * and in /health.
 */
export function createDevelopmentCallerResolver() {
  return (request: Request, requestId: string): CallerContext => {
    void request;
    return {
      tenantId: developmentTenant.tenantId,
      tenantSlug: developmentTenant.tenantSlug,
      keyId: null,
      tier: 'enterprise',
      scopes: ['read', 'write', 'admin'],
      requestId,
    };
  };
}

export type CallerResolver = ReturnType<typeof createDevelopmentCallerResolver>;
