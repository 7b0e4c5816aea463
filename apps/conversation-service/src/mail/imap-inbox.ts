import type { Readable } from 'node:stream';
import { resolvePermittedAddress, type FetchAllowlist, type HostLookup, type Logger } from '@gtm/runtime';
import { ImapFlow } from 'imapflow';
import { classifyMailError, MailServerError } from './mail-server.error.js';
import { MailSecurity, type MailServerSettings } from './mail-security.js';

export interface ImapInboxSettings {
  server: MailServerSettings;
  /** The folder replies arrive in. Default: INBOX. */
  folder?: string;
  allowlist: FetchAllowlist;
  /** Longest a connection, the greeting or one command may take (MAIL_CONNECT_TIMEOUT_MS). */
  timeoutMs: number;
  /** How long one IDLE lasts before it is renewed; without IDLE, how often the server is polled. */
  idleRenewMs?: number;
  lookup?: HostLookup;
  logger?: Logger;
}

/** Where reading a folder stopped: the next read fetches only what came after. */
export interface InboxPosition {
  /** The folder's UIDVALIDITY when `lastUid` was read; a change means the UIDs were renumbered. */
  uidValidity: string | null;
  lastUid: number;
}

export interface InboxMessage {
  uid: number;
  /** Size of the whole message in bytes, as the server reports it. */
  size: number;
  /** The raw RFC 5322 message, streamed from the server; null when it is over the size limit (not downloaded). */
  content: Readable | null;
}

export interface ImapSession {
  /** The server announced IDLE: new mail is pushed; otherwise imapflow polls. */
  readonly idle: boolean;
  /**
   * Reads the messages after `position`, one at a time, handing each to `handle`, and returns the
   * position after the last one handled. A first read (no position) or a renumbered folder starts
   * at the newest message: mail from before the mailbox was connected is not a reply.
   */
  readNew(position: InboxPosition | null, handle: (message: InboxMessage) => Promise<void>, maximumBytes: number): Promise<InboxPosition>;
  /** The position of the newest message now, without reading anything. */
  currentPosition(): Promise<InboxPosition>;
  /** Called when the server says new mail arrived (IDLE or a poll). */
  onNewMail(listener: () => void): void;
  /** Called once when the connection ends, whatever ended it. */
  onClose(listener: () => void): void;
  close(): Promise<void>;
}

/** What `handle` threw, carried past the server-error classification. */
class HandlerFailure extends Error {}

/**
 * Opens an IMAP session on a mailbox's folder with imapflow: the host checked against the address
 * policy and connected by address, the login verified, the folder selected.
 */
export async function openImapSession(settings: ImapInboxSettings): Promise<ImapSession> {
  const { server } = settings;
  const folder = settings.folder ?? 'INBOX';
  const where = `IMAP ${server.host}:${server.port}`;
  let address: string;
  try {
    address = await resolvePermittedAddress(server.host, server.port, settings.allowlist, settings.lookup);
  } catch (error) {
    const reason = (error as Error).name === 'RefusedAddressError' ? 'REFUSED_ADDRESS' : 'UNREACHABLE';
    throw new MailServerError(`${where}: ${(error as Error).message}`, reason, undefined, { cause: error });
  }
  const client = new ImapFlow({
    host: address,
    port: server.port,
    secure: server.security === MailSecurity.TLS,
    doSTARTTLS: server.security === MailSecurity.STARTTLS ? true : server.security === MailSecurity.NONE ? false : undefined,
    servername: server.host,
    auth: { user: server.username, pass: server.password },
    // The credentials must never reach a log line.
    logger: false,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: Math.max(settings.timeoutMs * 4, (settings.idleRenewMs ?? 60_000) * 2),
    maxIdleTime: settings.idleRenewMs ?? 60_000,
    missingIdleCommand: 'STATUS',
  });
  // Without a listener an 'error' event would end the process; the close listener reports it.
  client.on('error', (error: unknown) => settings.logger?.debug({ reason: classifyMailError(error, where, 'reading').message }, 'IMAP connection error'));
  try {
    await client.connect();
  } catch (error) {
    throw classifyMailError(error, where, 'login');
  }
  try {
    await client.mailboxOpen(folder);
  } catch (error) {
    await client.logout().catch(() => undefined);
    throw new MailServerError(`${where} has no folder "${folder}" this login may open`, 'PROTOCOL', undefined, { cause: error });
  }

  /**
   * The folder's UIDVALIDITY and newest UID now. UIDNEXT is only what SELECT said (servers do not
   * announce it again when mail arrives), so the newest UID is asked for.
   */
  const positionNow = async (): Promise<InboxPosition> => {
    const mailbox = client.mailbox;
    if (!mailbox) throw new MailServerError(`${where}: the folder is no longer selected`, 'PROTOCOL');
    const newest = mailbox.exists > 0 ? await client.fetchOne('*', { uid: true }) : false;
    return { uidValidity: String(mailbox.uidValidity), lastUid: newest ? newest.uid : Math.max(0, mailbox.uidNext - 1) };
  };

  return {
    idle: client.capabilities.has('IDLE'),
    async currentPosition() {
      const lock = await client.getMailboxLock(folder);
      try {
        return await positionNow();
      } finally {
        lock.release();
      }
    },
    async readNew(position, handle, maximumBytes) {
      const lock = await client.getMailboxLock(folder);
      try {
        const now = await positionNow();
        if (!position || position.uidValidity !== now.uidValidity) return now;
        let lastUid = position.lastUid;
        if (now.lastUid <= lastUid) return { uidValidity: now.uidValidity, lastUid };
        const found = await client.search({ uid: `${lastUid + 1}:*` }, { uid: true });
        // `n:*` always matches the newest message, even when its UID is below n.
        const uids = (found || []).filter((uid) => uid > lastUid).toSorted((left, right) => left - right);
        for (const uid of uids) {
          const summary = await client.fetchOne(String(uid), { uid: true, size: true }, { uid: true });
          const size = summary ? Number(summary.size ?? 0) : 0;
          const download = size > maximumBytes ? null : await client.download(String(uid), undefined, { uid: true });
          if (size > maximumBytes || download?.content) {
            try {
              await handle({ uid, size, content: download?.content ?? null });
            } catch (error) {
              throw new HandlerFailure('handler failed', { cause: error });
            }
          }
          lastUid = uid;
        }
        return { uidValidity: now.uidValidity, lastUid };
      } catch (error) {
        if (error instanceof MailServerError) throw error;
        // A failure in `handle` is the caller's; anything else is the server's.
        if (error instanceof HandlerFailure) throw error.cause;
        throw classifyMailError(error, where, 'reading new mail');
      } finally {
        lock.release();
      }
    },
    onNewMail(listener) {
      client.on('exists', listener);
    },
    onClose(listener) {
      client.once('close', listener);
    },
    async close() {
      await client.logout().catch(() => client.close());
    },
  };
}

/** Connects, logs in, selects the folder and leaves: what `connectMailbox` checks. */
export async function verifyImap(settings: ImapInboxSettings): Promise<{ idle: boolean; position: InboxPosition }> {
  const session = await openImapSession(settings);
  try {
    return { idle: session.idle, position: await session.currentPosition() };
  } finally {
    await session.close();
  }
}
