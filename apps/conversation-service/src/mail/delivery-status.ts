/**
 * One recipient's block of an RFC 3464 delivery status notification (`message/delivery-status`).
 */
export interface RecipientDeliveryStatus {
  /** The address the report is about (Final-Recipient, else Original-Recipient), lower-case. */
  recipient: string | null;
  /** failed | delayed | delivered | relayed | expanded. */
  action: string;
  /** The enhanced status code (RFC 3463), e.g. 5.1.1. */
  status: string | null;
  /** The remote server's own words (Diagnostic-Code), trimmed. */
  diagnostic: string | null;
}

export interface DeliveryStatusReport {
  /** Original-Envelope-Id: the ENVID the message was sent with, when the server supports DSN. */
  originalEnvelopeId: string | null;
  recipients: RecipientDeliveryStatus[];
}

/** What a report means for the conversation it is about. */
export type BounceKind =
  /** Permanently undeliverable: the address is suppressed and the conversation BOUNCED. */
  | 'HARD'
  /** A server gave up for a reason that may pass (mailbox full, 4.x.x): the message is sent again later. */
  | 'SOFT'
  /** Still being tried by a server on the way, or delivered: nothing to do. */
  | 'NONE';

/** `rfc822; someone@example.com` → `someone@example.com`. */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const address = value.includes(';') ? value.slice(value.indexOf(';') + 1) : value;
  return address.trim().replace(/^<|>$/g, '').toLowerCase() || null;
}

/** Parses a `message/delivery-status` body: groups of header-style fields separated by blank lines. */
export function parseDeliveryStatus(body: string): DeliveryStatusReport {
  const unfolded = body.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  const groups = unfolded
    .split(/\n\s*\n/)
    .map((group) =>
      Object.fromEntries(
        group
          .split('\n')
          .map((line) => /^([A-Za-z0-9-]+)\s*:\s*(.*)$/.exec(line.trim()))
          .filter((match): match is RegExpExecArray => match !== null)
          .map((match) => [match[1]!.toLowerCase(), match[2]!.trim()]),
      ),
    )
    .filter((fields) => Object.keys(fields).length > 0);
  const perMessage = groups[0] ?? {};
  const recipients = groups
    .filter((fields) => fields['action'] !== undefined)
    .map((fields) => ({
      recipient: addressOf(fields['final-recipient'] ?? fields['original-recipient']),
      action: fields['action']!.toLowerCase(),
      status: /\d\.\d{1,3}\.\d{1,3}/.exec(fields['status'] ?? '')?.[0] ?? null,
      diagnostic: fields['diagnostic-code'] ? fields['diagnostic-code'].replace(/^[a-z-]+;\s*/i, '').slice(0, 500) : null,
    }));
  return { originalEnvelopeId: perMessage['original-envelope-id']?.trim() ?? null, recipients };
}

/**
 * Hard when a server abandoned the message with a permanent (5.x.x) status; soft when it abandoned
 * it with a transient (4.x.x) one; nothing when it is still trying (delayed) or delivered it.
 */
export function bounceKindOf(status: RecipientDeliveryStatus): BounceKind {
  if (status.action !== 'failed') return 'NONE';
  if (status.status?.startsWith('4.')) return 'SOFT';
  return 'HARD';
}
