import { createHmac, timingSafeEqual } from 'node:crypto';

/** The headers a signed inbound webhook carries. */
export const webhookTimestampHeader = 'x-gtm-timestamp';
export const webhookSignatureHeader = 'x-gtm-signature';

/**
 * The signature of an inbound webhook: `v1=` and the hex HMAC-SHA256, under the mailbox's webhook
 * secret, of `<timestamp>.` followed by the raw body, where the timestamp is the Unix time in
 * seconds sent in `X-GTM-Timestamp`. The timestamp inside the signature stops a captured request
 * from being replayed later; the body is signed byte for byte, as received.
 */
export function createWebhookSigner(secret: string, timestamp: number) {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`);
  return {
    update(chunk: Buffer) {
      hmac.update(chunk);
    },
    signature: () => `v1=${hmac.digest('hex')}`,
  };
}

/** Signs a whole body at once: what a provider (or a test) sends. */
export function signWebhook(secret: string, body: Buffer, timestamp: number = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signer = createWebhookSigner(secret, timestamp);
  signer.update(body);
  return { [webhookTimestampHeader]: String(timestamp), [webhookSignatureHeader]: signer.signature() };
}

/** Whether any of the signatures sent (comma-separated, for secret rotation by the sender) is the expected one. */
export function signatureMatches(sent: string, expected: string): boolean {
  const wanted = Buffer.from(expected);
  return sent.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  });
}
