import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CallerContext, CallerTokenSigner } from '@gtm/caller';
import { callerTokenHeader } from '@gtm/caller';
import type { Logger } from '@gtm/runtime';
import { Router, type Request, type Response } from 'express';
import { request as undiciRequest, type Agent } from 'undici';

export interface InboundMailRoutesOptions {
  /** The conversation service's GraphQL URL; its routes live beside it. */
  conversationServiceUrl: string;
  signer: CallerTokenSigner;
  agent: Agent;
  logger: Logger;
  /** Longest a forwarded request may take. */
  timeoutMs: number;
}

// Headers a mail provider or a mail client sends that the conversation service needs; nothing else
// (no cookies, no authorization) is passed on.
const forwardedRequestHeaders = ['content-type', 'content-length', 'x-gtm-signature', 'x-gtm-timestamp', 'user-agent'];
const forwardedResponseHeaders = ['content-type', 'cache-control', 'x-robots-tag', 'referrer-policy', 'retry-after'];

/**
 * The public routes of the conversation service, on the gateway's origin: unsubscribe links
 * (`/unsubscribe/<token>`, GET shows a page, POST is RFC 8058 one-click) and inbound mail webhooks
 * (`POST /webhooks/email/<mailboxId>`). They carry no API key: the token's or the webhook's own
 * signature is their authentication, which the conversation service checks. The gateway streams
 * them through unchanged, signed as a caller without tenant or scopes, so the subgraph still only
 * answers what came through the gateway.
 */
export function createInboundMailRouter(options: InboundMailRoutesOptions): Router {
  const base = new URL(options.conversationServiceUrl);
  const router = Router();
  const forward = async (request: Request, response: Response) => {
    const requestId = randomUUID();
    const caller: CallerContext = { tenantId: '00000000-0000-0000-0000-000000000000', tenantSlug: 'public', keyId: null, tier: 'free', scopes: [], requestId };
    const headers: Record<string, string> = { [callerTokenHeader]: await options.signer.sign(caller), 'x-request-id': requestId };
    for (const name of forwardedRequestHeaders) {
      const value = request.header(name);
      if (value) headers[name] = value;
    }
    const target = new URL(request.originalUrl, base);
    const hasBody = request.method === 'POST';
    try {
      const upstream = await undiciRequest(target, {
        method: request.method as 'GET' | 'POST',
        headers,
        body: hasBody ? (request as Readable) : undefined,
        dispatcher: options.agent,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      response.status(upstream.statusCode);
      for (const name of forwardedResponseHeaders) {
        const value = upstream.headers[name];
        if (typeof value === 'string') response.setHeader(name, value);
      }
      response.setHeader('x-request-id', requestId);
      await pipeline(upstream.body, response);
    } catch (error) {
      options.logger.error({ err: error, requestId, path: request.path }, 'could not forward an inbound mail request to the conversation service');
      if (!response.headersSent) response.status(503).json({ error: 'The conversation service is unavailable; try again shortly.', requestId });
      else response.destroy();
    }
  };
  router.get('/unsubscribe/:token', forward);
  router.post('/unsubscribe/:token', forward);
  router.post('/webhooks/email/:mailboxId', forward);
  return router;
}
