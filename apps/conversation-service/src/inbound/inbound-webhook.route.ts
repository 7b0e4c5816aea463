import { Transform, type Readable } from 'node:stream';
import type { Database, Logger } from '@gtm/runtime';
import type { Express, RequestHandler, Response } from 'express';
import { MalformedMailError, OversizedMailError, parseInboundMail, type InboundMail } from '../mail/inbound-mail.js';
import type { MailboxService } from '../mailbox/mailbox.service.js';
import type { InboundService } from './inbound.service.js';
import { createWebhookSigner, signatureMatches, webhookSignatureHeader, webhookTimestampHeader } from './webhook-signature.js';

export interface InboundWebhookOptions {
  database: Database;
  mailboxes: MailboxService;
  inbound: InboundService;
  /** INBOUND_MESSAGE_MAX_BYTES. */
  maxBytes: number;
  /** WEBHOOK_TOLERANCE_SECONDS. */
  toleranceSeconds: number;
  logger: Logger;
}

// One answer for an unknown mailbox, a mailbox without a secret, a stale timestamp and a wrong
// signature: a caller without the secret learns nothing, not even whether the mailbox exists.
const unauthorized = (response: Response) => response.status(401).json({ error: 'The webhook signature is missing, stale or not valid for this mailbox.' });

/**
 * `POST /webhooks/email/<mailboxId>` (the gateway forwards it here): one raw RFC 5322 message as
 * the body, signed as webhook-signature.ts says. The body is hashed and parsed in one pass as it
 * streams in; nothing is stored unless the signature holds.
 */
export function mountInboundWebhook(app: Express, authenticate: RequestHandler, options: InboundWebhookOptions): void {
  app.post('/webhooks/email/:mailboxId', authenticate, async (request, response) => {
    const drain = () => request.resume();
    try {
      const mailbox = await options.mailboxes.findAnyTenant(options.database, String(request.params['mailboxId']));
      const secret = mailbox ? (await options.mailboxes.secretsOf(options.database.forkForTenant(mailbox.tenantId), mailbox)).webhookSecret : null;
      const timestamp = Number(request.header(webhookTimestampHeader));
      const sent = request.header(webhookSignatureHeader);
      if (!mailbox || !secret || !sent || !Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > options.toleranceSeconds) {
        drain();
        return unauthorized(response);
      }
      if (Number(request.header('content-length') ?? 0) > options.maxBytes) {
        drain();
        return response.status(413).json({ error: `The message is over the ${options.maxBytes}-byte limit.` });
      }
      const signer = createWebhookSigner(secret, timestamp);
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          signer.update(chunk);
          done(null, chunk);
        },
      });
      let mail: InboundMail | null = null;
      let failure: unknown = null;
      try {
        mail = await parseInboundMail((request as Readable).pipe(hashing), { maxBytes: options.maxBytes });
      } catch (error) {
        failure = error;
      }
      if (failure instanceof OversizedMailError) {
        drain();
        return response.status(413).json({ error: failure.message });
      }
      if (!signatureMatches(sent, signer.signature())) return unauthorized(response);
      if (failure instanceof MalformedMailError) return response.status(400).json({ error: `Not a readable RFC 5322 message: ${failure.message}` });
      if (failure) throw failure;
      const outcome = await options.inbound.store(mailbox, mail!, 'WEBHOOK');
      response.status(outcome.outcome === 'received' ? 202 : 200).json(outcome);
    } catch (error) {
      options.logger.error({ err: error, mailboxId: request.params['mailboxId'] }, 'could not take an inbound webhook');
      drain();
      if (!response.headersSent) response.status(503).set('retry-after', '30').json({ error: 'The message could not be stored; send it again later.' });
    }
  });
}
