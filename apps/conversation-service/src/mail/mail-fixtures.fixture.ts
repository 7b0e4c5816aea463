// The raw messages under fixtures/mail, filled in for one conversation (see fixtures/mail/README.md).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

const folder = new URL('../../fixtures/mail/', import.meta.url);

export interface MailFixtureValues {
  lead: string;
  leadName?: string;
  mailbox: string;
  mailboxName?: string;
  subject?: string;
  /** The Message-ID of our message the fixture answers or returns. */
  outboundMessageId: string;
  /** The References chain; default: the outbound Message-ID alone. */
  references?: string[];
  /** Keep the fixture's own Message-ID; by default each call gives the message a new one, as a new email has. */
  keepMessageId?: boolean;
}

/** RFC 2047 Q-encoding of a header text in ISO-8859-1 (what Thunderbird writes for a German subject). */
function encodeWordText(text: string): string {
  return [...Buffer.from(text, 'latin1')].map((byte) => (byte === 0x20 ? '_' : /[A-Za-z0-9]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A fixture's raw bytes with its placeholders filled in and CRLF line ends, as a server delivers it. */
export function mailFixture(name: string, values: MailFixtureValues): Buffer {
  const latin1 = readFileSync(new URL(name, folder)).toString('latin1');
  const subject = values.subject ?? 'Closing the books faster at Tidewater';
  const replacements: Record<string, string> = {
    LEAD: values.lead,
    LEAD_NAME: values.leadName ?? 'Dana Whitfield',
    MAILBOX: values.mailbox,
    MAILBOX_NAME: values.mailboxName ?? 'Sam Carter',
    SUBJECT: subject,
    SUBJECT_Q: encodeWordText(subject),
    IN_REPLY_TO: values.outboundMessageId,
    OUTBOUND_MESSAGE_ID: values.outboundMessageId,
    REFERENCES: (values.references ?? [values.outboundMessageId]).join(' '),
  };
  let filled = latin1.replace(/\{\{([A-Z_]+)\}\}/g, (whole, key: string) => replacements[key] ?? whole);
  // The first Message-ID line is the message's own (a returned original's comes later, in its body).
  if (!values.keepMessageId) filled = filled.replace(/^(Message-I[Dd]:\s*<)([^@>]+)@/m, (_whole, head: string, local: string) => `${head}${local}.${randomUUID().slice(0, 8)}@`);
  // Placeholders are ASCII, so the latin1 round trip leaves every other byte as it was.
  return Buffer.from(filled.replace(/\r?\n/g, '\r\n'), 'latin1');
}
