import { resolvePermittedAddress, type FetchAllowlist, type HostLookup } from '@gtm/runtime';
import { createTransport, type Transporter } from 'nodemailer';
import { classifyMailError, MailServerError } from './mail-server.error.js';
import { MailSecurity, type MailServerSettings } from './mail-security.js';

export interface SmtpSenderSettings {
  server: MailServerSettings;
  /** Hosts that may resolve to private addresses (MAIL_HOST_ALLOWLIST). */
  allowlist: FetchAllowlist;
  /** Longest a connection, the greeting or one command may take (MAIL_CONNECT_TIMEOUT_MS). */
  timeoutMs: number;
  /** Keep one connection open across sends (a mailbox's sending worker). Default: false. */
  pooled?: boolean;
  /** Name resolution, for tests. Default: the system resolver. */
  lookup?: HostLookup;
}

export interface OutgoingMail {
  from: { name: string | null; address: string };
  to: { name: string | null; address: string };
  subject: string;
  text: string;
  /** `<id@domain>`, fixed before the first attempt so that a retry sends the same message. */
  messageId: string;
  inReplyTo?: string | null;
  references?: string[];
  /** Extra headers (List-Unsubscribe …). */
  headers?: Record<string, string>;
}

export interface SmtpSender {
  /** Connects and logs in, then leaves; throws a MailServerError saying what failed. */
  verify(): Promise<void>;
  /** Sends one message; throws a MailServerError (see `isRetryable`) when the server did not take it. */
  send(mail: OutgoingMail): Promise<{ response: string }>;
  close(): void;
}

/**
 * Sending over SMTP with nodemailer. The host is resolved once and checked against the address
 * policy, and the connection goes to that address (the name is kept for TLS), so a user's mailbox
 * settings cannot point this service at an internal address.
 */
export function createSmtpSender(settings: SmtpSenderSettings): SmtpSender {
  const { server } = settings;
  const where = `SMTP ${server.host}:${server.port}`;
  let transport: Promise<Transporter> | null = null;

  const open = () =>
    (transport ??= (async () => {
      let address: string;
      try {
        address = await resolvePermittedAddress(server.host, server.port, settings.allowlist, settings.lookup);
      } catch (error) {
        transport = null;
        const reason = (error as Error).name === 'RefusedAddressError' ? 'REFUSED_ADDRESS' : 'UNREACHABLE';
        throw new MailServerError(`${where}: ${(error as Error).message}`, reason, undefined, { cause: error });
      }
      return createTransport({
        host: address,
        port: server.port,
        secure: server.security === MailSecurity.TLS,
        requireTLS: server.security === MailSecurity.STARTTLS,
        ignoreTLS: server.security === MailSecurity.NONE,
        tls: { servername: server.host },
        auth: { user: server.username, pass: server.password },
        connectionTimeout: settings.timeoutMs,
        greetingTimeout: settings.timeoutMs,
        socketTimeout: settings.timeoutMs * 4,
        // The credentials must never reach a log line.
        logger: false,
        debug: false,
        ...(settings.pooled ? { pool: true, maxConnections: 1, maxMessages: 500 } : {}),
      } as Parameters<typeof createTransport>[0]);
    })());

  return {
    async verify() {
      const transporter = await open();
      try {
        await transporter.verify();
      } catch (error) {
        throw classifyMailError(error, where, 'login');
      } finally {
        if (!settings.pooled) transporter.close();
      }
    },
    async send(mail) {
      const transporter = await open();
      try {
        const info = await transporter.sendMail({
          from: { name: mail.from.name ?? '', address: mail.from.address },
          to: { name: mail.to.name ?? '', address: mail.to.address },
          subject: mail.subject,
          text: mail.text,
          messageId: mail.messageId,
          ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
          ...(mail.references?.length ? { references: mail.references } : {}),
          headers: mail.headers ?? {},
          // The envelope is the lead alone: no Bcc, no other recipient ever rides along.
          envelope: { from: mail.from.address, to: [mail.to.address] },
        });
        const rejected = (info.rejected as unknown[]).length > 0;
        if (rejected) throw new MailServerError(`${where} refused ${mail.to.address}`, 'RECIPIENT_REJECTED');
        return { response: String(info.response ?? '') };
      } catch (error) {
        throw classifyMailError(error, where, `sending to ${mail.to.address}`);
      } finally {
        if (!settings.pooled) transporter.close();
      }
    },
    close() {
      void transport?.then((transporter) => transporter.close()).catch(() => undefined);
      transport = null;
    },
  };
}
