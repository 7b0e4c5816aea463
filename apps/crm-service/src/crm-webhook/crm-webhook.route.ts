import { CallerTokenError, relayTokenHeader, type RelayTokenVerifier } from '@gtm/caller';
import { createAccessLog, type Logger } from '@gtm/runtime';
import express, { type Router } from 'express';
import type { CrmWebhookService } from './crm-webhook.service.js';

/** Largest webhook body read; providers send a few kilobytes. */
const maximumBodyBytes = 1024 * 1024;

/**
 * `POST /webhooks/crm/:connectionId`, as the gateway relays it: the raw body kept byte for byte
 * (signatures cover it), the relay token checked first (only the gateway reaches this), then the
 * provider's own signature. Answers 202 once the work is queued, 401 for anything unverified.
 */
export function createCrmWebhookRouter(options: { webhooks: CrmWebhookService; relay: RelayTokenVerifier; logger: Logger }): Router {
  const router = express.Router();
  router.post('/webhooks/crm/:connectionId', createAccessLog(options.logger), express.raw({ type: () => true, limit: maximumBodyBytes }), async (request, response) => {
    try {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const pathAndQuery = request.originalUrl;
      try {
        await options.relay.verify(request.header(relayTokenHeader), pathAndQuery, rawBody);
      } catch (error) {
        if (!(error instanceof CallerTokenError)) throw error;
        options.logger.warn({ reason: error.message }, 'refused a webhook the gateway did not relay');
        response.status(401).json({ error: 'unauthenticated', message: 'Webhooks reach this service only through the GTM Graph gateway.' });
        return;
      }
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]));
      const outcome = await options.webhooks.receive(String(request.params['connectionId']), { method: request.method, headers, rawBody, pathAndQuery });
      if (outcome.status === 401) {
        response.status(401).json({ error: 'unverified', message: `Refused: ${outcome.reason}.` });
        return;
      }
      response.status(202).json({ accepted: outcome.accepted, duplicates: outcome.duplicates, runId: outcome.runId });
    } catch (error) {
      // Logged once here; the provider sees a 500 and delivers again later.
      options.logger.error({ err: error, connectionId: request.params['connectionId'] }, 'a CRM webhook failed');
      response.status(500).json({ error: 'internal', message: 'The webhook could not be taken; deliver it again later.' });
    }
  });
  return router;
}
