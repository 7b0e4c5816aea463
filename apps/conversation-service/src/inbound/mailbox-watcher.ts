import type { Database, Logger, Redis } from '@gtm/runtime';
import { RedisLock } from '@gtm/redis-lock';
import type { ImapSession, InboxPosition } from '../mail/imap-inbox.js';
import { MalformedMailError, OversizedMailError, parseInboundMail } from '../mail/inbound-mail.js';
import type { MailConnector } from '../mail/mail-connector.js';
import { MailServerError } from '../mail/mail-server.error.js';
import { Mailbox } from '../mailbox/mailbox.entity.js';
import type { MailboxService } from '../mailbox/mailbox.service.js';
import type { InboundService } from './inbound.service.js';

export interface MailboxWatcherOptions {
  database: Database;
  redis: Redis;
  mailboxes: MailboxService;
  mail: MailConnector;
  inbound: InboundService;
  /** INBOUND_MESSAGE_MAX_BYTES. */
  maxBytes: number;
  /** MAILBOX_POLL_INTERVAL_MS: how often mailboxes are looked for and each inbox is read again. */
  intervalMs: number;
  logger: Logger;
}

interface Watch {
  mailboxId: string;
  tenantId: string;
  /** The mailbox's settings version it was opened with; a change reopens it. */
  version: number;
  session: ImapSession;
  lock: RedisLock;
  reading: Promise<void>;
  again: boolean;
  closed: boolean;
}

/**
 * Reads the inbox of every mailbox that has IMAP settings, in whichever process holds its lock (one
 * watcher per mailbox however many processes run): IDLE where the server offers it, so a reply
 * arrives at once, and a read every interval anyway. Each message is parsed as it streams from the
 * server and filed by the inbound service; the folder position is saved after each one, and the
 * same message read twice is stored once.
 */
export class MailboxWatcher {
  private readonly watches = new Map<string, Watch>();
  private readonly starting = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private refreshing: Promise<void> = Promise.resolve();

  constructor(private readonly options: MailboxWatcherOptions) {}

  start(): void {
    const tick = () => {
      this.refreshing = this.refresh().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not look for mailboxes to watch'));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
  }

  /** Opens watches for new or changed mailboxes, drops those of removed ones, reads every open inbox. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const mailboxes = await this.options.mailboxes.listWithInbox(this.options.database);
    const current = new Map(mailboxes.map((mailbox) => [mailbox.id, mailbox]));
    for (const [id, watch] of this.watches) {
      const mailbox = current.get(id);
      if (!mailbox || mailbox.updatedAt.getTime() !== watch.version) await this.stop(watch);
    }
    for (const mailbox of mailboxes) {
      const watch = this.watches.get(mailbox.id);
      if (watch) {
        if (!(await watch.lock.extend(this.lockTtl()))) await this.stop(watch);
        else this.read(watch);
      } else if (!this.starting.has(mailbox.id)) {
        this.starting.add(mailbox.id);
        await this.open(mailbox).finally(() => this.starting.delete(mailbox.id));
      }
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    await Promise.all([...this.watches.values()].map((watch) => this.stop(watch)));
  }

  private lockTtl(): number {
    return Math.max(10_000, this.options.intervalMs * 3);
  }

  private async open(mailbox: Mailbox): Promise<void> {
    const lock = await RedisLock.acquire(this.options.redis, `mailbox-watch:${mailbox.id}`, this.lockTtl());
    if (!lock) return;
    const { logger } = this.options;
    try {
      const secrets = await this.options.mailboxes.secretsOf(this.options.database.forkForTenant(mailbox.tenantId), mailbox);
      const settings = this.options.mailboxes.imapSettingsOf(mailbox, secrets);
      if (!settings) {
        await lock.release();
        return;
      }
      const session = await this.options.mail.imap(settings, mailbox.imapFolder ?? 'INBOX', logger);
      if (this.stopped) {
        await session.close();
        await lock.release();
        return;
      }
      const watch: Watch = { mailboxId: mailbox.id, tenantId: mailbox.tenantId, version: mailbox.updatedAt.getTime(), session, lock, reading: Promise.resolve(), again: false, closed: false };
      this.watches.set(mailbox.id, watch);
      session.onNewMail(() => this.read(watch));
      session.onClose(() => {
        if (!watch.closed) logger.info({ mailboxId: mailbox.id }, 'IMAP connection closed; it is opened again at the next check');
        void this.stop(watch);
      });
      logger.info({ mailboxId: mailbox.id, idle: session.idle }, 'watching mailbox inbox');
      await this.recordError(watch, null);
      this.read(watch);
    } catch (error) {
      await lock.release().catch(() => undefined);
      const message = error instanceof MailServerError ? error.message : 'the inbox could not be opened';
      logger.warn({ mailboxId: mailbox.id, reason: message }, 'could not open a mailbox inbox');
      await this.options.database.forkForTenant(mailbox.tenantId).nativeUpdate(Mailbox, { id: mailbox.id }, { lastError: `Reading replies: ${message}` });
    }
  }

  /** Reads what is new; a read asked for while one runs happens right after it. */
  private read(watch: Watch): void {
    if (watch.closed) return;
    watch.again = true;
    watch.reading = watch.reading.then(async () => {
      while (watch.again && !watch.closed) {
        watch.again = false;
        await this.readOnce(watch).catch(async (error: unknown) => {
          this.options.logger.warn({ err: error, mailboxId: watch.mailboxId }, 'could not read a mailbox inbox');
          await this.recordError(watch, `Reading replies: ${error instanceof MailServerError ? error.message : 'a message could not be filed; it is read again at the next check'}`);
        });
      }
    });
  }

  private async readOnce(watch: Watch): Promise<void> {
    const em = this.options.database.forkForTenant(watch.tenantId);
    const mailbox = await em.findOne(Mailbox, { id: watch.mailboxId }, { populate: ['sealedSecrets'] });
    if (!mailbox) return;
    const position: InboxPosition | null = mailbox.imapUidValidity && mailbox.imapLastUid !== null ? { uidValidity: mailbox.imapUidValidity, lastUid: Number(mailbox.imapLastUid) } : null;
    const after = await watch.session.readNew(
      position,
      async (message) => {
        if (message.content) {
          try {
            const mail = await parseInboundMail(message.content, { maxBytes: this.options.maxBytes });
            await this.options.inbound.store(mailbox, mail, 'IMAP');
          } catch (error) {
            if (!(error instanceof MalformedMailError || error instanceof OversizedMailError)) throw error;
            this.options.logger.warn({ mailboxId: mailbox.id, uid: message.uid, reason: error.message }, 'passed over an inbox message that cannot be read');
          }
        } else {
          this.options.logger.warn({ mailboxId: mailbox.id, uid: message.uid, size: message.size }, 'passed over an inbox message over the size limit');
        }
        await em.nativeUpdate(Mailbox, { id: mailbox.id }, { imapLastUid: String(message.uid), lastReadAt: new Date() });
      },
      this.options.maxBytes,
    );
    await em.nativeUpdate(Mailbox, { id: mailbox.id }, { imapUidValidity: after.uidValidity, imapLastUid: String(after.lastUid), lastReadAt: new Date(), ...(mailbox.lastError?.startsWith('Reading replies:') ? { lastError: null } : {}) });
  }

  private async recordError(watch: Watch, error: string | null): Promise<void> {
    const em = this.options.database.forkForTenant(watch.tenantId);
    if (error) await em.nativeUpdate(Mailbox, { id: watch.mailboxId }, { lastError: error });
    else await em.nativeUpdate(Mailbox, { id: watch.mailboxId, lastError: { $like: 'Reading replies:%' } }, { lastError: null });
  }

  private async stop(watch: Watch): Promise<void> {
    if (watch.closed) return;
    watch.closed = true;
    this.watches.delete(watch.mailboxId);
    await watch.reading.catch(() => undefined);
    await watch.session.close().catch(() => undefined);
    await watch.lock.release().catch(() => undefined);
  }
}
