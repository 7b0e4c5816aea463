import type { FetchAllowlist, HostLookup, Logger } from '@gtm/runtime';
import { openImapSession, verifyImap, type ImapSession, type InboxPosition } from './imap-inbox.js';
import type { MailServerSettings } from './mail-security.js';
import { createSmtpSender, type SmtpSender } from './smtp-sender.js';

export interface MailConnectorSettings {
  /** MAIL_HOST_ALLOWLIST. */
  allowlist: FetchAllowlist;
  /** MAIL_CONNECT_TIMEOUT_MS. */
  timeoutMs: number;
  /** MAILBOX_POLL_INTERVAL_MS: how long an IDLE lasts, or how often a server without IDLE is polled. */
  idleRenewMs: number;
  /** Name resolution, for tests. Default: the system resolver. */
  lookup?: HostLookup;
}

/** Opens SMTP and IMAP connections with this deployment's address policy and timeouts. */
export class MailConnector {
  constructor(private readonly settings: MailConnectorSettings) {}

  smtp(server: MailServerSettings, options: { pooled?: boolean } = {}): SmtpSender {
    return createSmtpSender({ server, allowlist: this.settings.allowlist, timeoutMs: this.settings.timeoutMs, lookup: this.settings.lookup, pooled: options.pooled });
  }

  imap(server: MailServerSettings, folder: string, logger?: Logger): Promise<ImapSession> {
    return openImapSession({ server, folder, allowlist: this.settings.allowlist, timeoutMs: this.settings.timeoutMs, idleRenewMs: this.settings.idleRenewMs, lookup: this.settings.lookup, logger });
  }

  verifyImap(server: MailServerSettings, folder: string): Promise<{ idle: boolean; position: InboxPosition }> {
    return verifyImap({ server, folder, allowlist: this.settings.allowlist, timeoutMs: this.settings.timeoutMs, lookup: this.settings.lookup });
  }
}
