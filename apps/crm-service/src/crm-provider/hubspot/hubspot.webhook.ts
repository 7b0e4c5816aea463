import { Signature } from '@hubspot/api-client';
import type { CrmWebhookEvent, InboundWebhook, WebhookVerification } from '../crm-provider.js';
import { equalSecrets, headerOf } from '../webhook-signature.js';

/** HubSpot refuses to vouch for a request older than this, and so do we. */
export const hubSpotSignatureWindowMs = 5 * 60 * 1000;

// HubSpot signs the URI with these escapes decoded (its v3 validation guide lists exactly these).
const decodedInSignature: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

function signedUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => decodedInSignature[escape.toUpperCase()]!);
}

interface HubSpotEvent {
  eventId?: number | string;
  subscriptionId?: number;
  occurredAt?: number;
  subscriptionType?: string;
  objectId?: number | string;
  primaryObjectId?: number | string;
  mergedObjectIds?: Array<number | string>;
}

/**
 * HubSpot's v3 signature: base64 HMAC-SHA256, keyed with the app's client secret, over
 * method + URI + body + timestamp (`X-HubSpot-Request-Timestamp`, milliseconds), the URI being the
 * one HubSpot called. Computed by the SDK's own `Signature`, compared in constant time; a
 * timestamp more than 5 minutes away from now is refused.
 */
export function verifyHubSpotWebhook(request: InboundWebhook, secret: string | null, now: Date): WebhookVerification {
  if (!secret) return { verified: false, reason: 'the connection has no webhook secret (the HubSpot app client secret)' };
  const signature = headerOf(request, 'x-hubspot-signature-v3');
  const timestampText = headerOf(request, 'x-hubspot-request-timestamp');
  if (!signature || !timestampText) return { verified: false, reason: 'X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp is missing' };
  const timestamp = Number(timestampText);
  if (!Number.isFinite(timestamp)) return { verified: false, reason: 'X-HubSpot-Request-Timestamp is not a number' };
  if (Math.abs(now.getTime() - timestamp) > hubSpotSignatureWindowMs) return { verified: false, reason: 'the signature timestamp is more than 5 minutes old (or ahead)' };
  const expected = Signature.getSignature(request.method.toUpperCase(), 'v3', {
    clientSecret: secret,
    signature,
    requestBody: request.rawBody.toString('utf8'),
    url: signedUri(request.url),
    timestamp,
  });
  if (!equalSecrets(Buffer.from(signature, 'base64'), Buffer.from(expected, 'base64'))) return { verified: false, reason: 'the signature does not match' };

  let parsed: unknown;
  try {
    parsed = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return { verified: false, reason: 'the signed body is not JSON' };
  }
  const events: CrmWebhookEvent[] = [];
  for (const event of (Array.isArray(parsed) ? parsed : [parsed]) as HubSpotEvent[]) {
    const type = event.subscriptionType ?? '';
    if (!type.startsWith('contact.') || event.objectId === undefined) continue;
    const occurredAt = new Date(Number(event.occurredAt ?? timestamp));
    // HubSpot does not promise eventId alone is unique; with the subscription and the object it is.
    const eventId = `${event.subscriptionId ?? ''}:${event.eventId ?? ''}:${event.objectId}:${type}`;
    if (type === 'contact.deletion' || type === 'contact.privacyDeletion') events.push({ eventId, kind: 'delete', externalId: String(event.objectId), occurredAt, mergedExternalIds: [] });
    else if (type === 'contact.merge') {
      events.push({ eventId, kind: 'merge', externalId: String(event.primaryObjectId ?? event.objectId), occurredAt, mergedExternalIds: (event.mergedObjectIds ?? []).map(String) });
    } else events.push({ eventId, kind: 'upsert', externalId: String(event.objectId), occurredAt, mergedExternalIds: [] });
  }
  return { verified: true, events, replayKey: signature, replayWindowMs: hubSpotSignatureWindowMs };
}
