import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUuid } from '@gtm/runtime';

/** Who an unsubscribe link is for: one conversation of one tenant (and so one address). */
export interface UnsubscribeSubject {
  tenantId: string;
  conversationId: string;
}

const uuidBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const uuidOf = (bytes: Buffer) => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * Signed unsubscribe tokens: the tenant and conversation ids (32 bytes) and an HMAC-SHA256 over
 * them (first 16 bytes), base64url. Short enough for a header, unforgeable without the key, and
 * they never expire: a lead may unsubscribe from an old email. The key is derived from SECRETS_KEY
 * for this purpose alone (`deriveKey('unsubscribe')`).
 */
export class UnsubscribeTokens {
  constructor(private readonly key: Buffer) {}

  sign(subject: UnsubscribeSubject): string {
    const payload = Buffer.concat([uuidBytes(subject.tenantId), uuidBytes(subject.conversationId)]);
    return `${payload.toString('base64url')}.${this.mac(payload).toString('base64url')}`;
  }

  /** The subject of a token this service signed, or null for anything else (forged, altered, cut). */
  verify(token: string): UnsubscribeSubject | null {
    const match = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{22})$/.exec(token);
    if (!match) return null;
    const payload = Buffer.from(match[1]!, 'base64url');
    const mac = Buffer.from(match[2]!, 'base64url');
    if (payload.length !== 32 || mac.length !== 16 || !timingSafeEqual(mac, this.mac(payload))) return null;
    const subject = { tenantId: uuidOf(payload.subarray(0, 16)), conversationId: uuidOf(payload.subarray(16)) };
    return isUuid(subject.tenantId) && isUuid(subject.conversationId) ? subject : null;
  }

  private mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update('gtm-unsubscribe:v1:').update(payload).digest().subarray(0, 16);
  }
}
