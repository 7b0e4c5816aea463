import { randomUUID } from 'node:crypto';
import { relayTokenHeader, sha256Hex, type RelayTokenSigner } from '@gtm/caller';
import type { Logger } from '@gtm/runtime';
import express, { type Router } from 'express';
import { request as undiciRequest, type Agent } from 'undici';

/** Largest webhook body relayed; providers send a few kilobytes. */
const maximumBodyBytes = 1024 * 1024;

/** Headers that belong to one hop, and ours, which a caller must never be able to set. */
const droppedHeaders = /^(host|connection|keep-alive|transfer-encoding|te|trailer|upgrade|proxy-.*|content-length|x-gtm-.*)$/i;

export interface CrmWebhookRelayOptions {
  /** The CRM service's GraphQL endpoint; webhooks go to the same origin. */
  crmServiceUrl: string;
  agent: Agent;
  signer: RelayTokenSigner;
  logger: Logger;
  timeoutMs: number;
}

/**
 * `POST /webhooks/crm/:connectionId`: a CRM's webhook, relayed to the CRM service with its body
 * byte for byte and its headers (the provider's signature, Pipedrive's basic auth), plus a relay
 * token binding path and body, so the service knows it came through here. No API key: the
 * provider proves itself to the service with its own signature.
 */
export function createCrmWebhookRelay(options: CrmWebhookRelayOptions): Router {
  const router = express.Router();
  const origin = new URL(options.crmServiceUrl).origin;
  router.post('/webhooks/crm/:connectionId', express.raw({ type: () => true, limit: maximumBodyBytes }), async (request, response) => {
    const requestId = randomUUID();
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    try {
      const token = await options.signer.sign({ path: request.originalUrl, bodySha256: sha256Hex(body), requestId });
      const headers: Record<string, string> = { [relayTokenHeader]: token, 'x-request-id': requestId };
      for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined || droppedHeaders.test(name)) continue;
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const answer = await undiciRequest(`${origin}${request.originalUrl}`, { method: 'POST', headers, body, dispatcher: options.agent, signal: AbortSignal.timeout(options.timeoutMs) });
      const text = await answer.body.text();
      response.status(answer.statusCode).type(String(answer.headers['content-type'] ?? 'application/json')).send(text);
    } catch (error) {
      options.logger.error({ err: error, requestId }, 'could not relay a CRM webhook');
      response.status(502).json({ error: 'upstream', message: 'The CRM service could not take the webhook; deliver it again later.' });
    }
  });
  return router;
}
