import { randomUUID } from 'node:crypto';

/** Every `<…@…>` in a header value (Message-ID, In-Reply-To, References), in order, without duplicates. */
export function parseMessageIds(value: string): string[] {
  const ids = value.match(/<[^<>\s]+@[^<>\s]+>/g) ?? [];
  return [...new Set(ids)];
}

/** A new Message-ID on the mailbox's own domain, as the lead's mail client will see it. */
export function newMessageId(mailboxAddress: string): string {
  const domain = mailboxAddress.slice(mailboxAddress.lastIndexOf('@') + 1) || 'localhost';
  return `<${randomUUID()}@${domain}>`;
}
