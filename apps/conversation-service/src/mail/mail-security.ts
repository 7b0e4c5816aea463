import { registerEnumType } from 'type-graphql';

/** How a connection to a mail server is protected. */
export enum MailSecurity {
  /** TLS from the first byte (SMTP 465, IMAP 993). */
  TLS = 'TLS',
  /** Plain text upgraded with STARTTLS, which is then required (SMTP 587, IMAP 143). */
  STARTTLS = 'STARTTLS',
  /** No encryption: only for a local relay or test server. */
  NONE = 'NONE',
}

registerEnumType(MailSecurity, { name: 'MailSecurity', description: 'How a connection to a mail server is protected.' });

/** Where a mail server is and how to log in: what a mailbox's SMTP and IMAP settings hold. */
export interface MailServerSettings {
  host: string;
  port: number;
  security: MailSecurity;
  username: string;
  password: string;
}
