import { badUserInput, isUuid, notFound, parseInput, type Database, type EntityManager, type Logger, type SubgraphContext } from '@gtm/runtime';
import { maskSecret, type SecretBox } from '@gtm/secrets';
import { z } from 'zod';
import type { MailConnector } from '../mail/mail-connector.js';
import { MailServerError } from '../mail/mail-server.error.js';
import { MailSecurity, type MailServerSettings } from '../mail/mail-security.js';
import type { ConversationLoaders } from '../loaders.js';
import { Mailbox, MailboxStatus, type MailboxSecrets } from './mailbox.entity.js';
import type { ConnectMailboxInput, UpdateMailboxInput } from './mailbox.input.js';
import { type MailboxType, Weekday, weekdayNumbers } from './mailbox.type.js';
import { isValidTimeZone, type SendWindow } from './send-window.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

const hostSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'must not be empty')
  .max(253)
  .regex(/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[?[0-9a-f:.]+\]?$/, 'must be a host name or an IP address');

const serverSchema = z.object({
  host: hostSchema,
  port: z.int().min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535'),
  security: z.enum(MailSecurity),
  username: z.string().trim().min(1, 'must not be empty').max(320),
  password: z.string().min(1, 'must not be empty').max(1_000),
  folder: z.string().trim().min(1).max(200).nullish(),
});

const timeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM, such as 09:00');

const sendWindowSchema = z
  .object({
    timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone, such as Europe/Berlin or America/New_York'),
    start: timeSchema,
    end: timeSchema,
    days: z.array(z.enum(Weekday)).min(1, 'must name at least one weekday'),
  })
  .refine((window) => window.start < window.end, { message: 'must end after it starts (a window does not cross midnight)', path: ['end'] });

const pacingSchema = z.object({
  minimumSecondsBetweenSends: z.int().min(0).max(86_400),
  jitterSeconds: z.int().min(0).max(3_600),
});

const dailyLimitSchema = z.int().min(1, 'must be at least 1').max(2_000, 'must be at most 2 000 (a mailbox that sends more is burned)');

const connectSchema = z.object({
  address: z.email('must be an email address').trim().toLowerCase().max(320),
  displayName: z.string().trim().max(120).nullish().transform((value) => value || null),
  smtp: serverSchema,
  imap: serverSchema.nullish(),
  dailyLimit: dailyLimitSchema,
  sendWindow: sendWindowSchema.nullish(),
  pacing: pacingSchema.nullish(),
  webhookSecret: z.string().min(16, 'must be at least 16 characters').max(200).nullish(),
});

const updateSchema = z.object({
  displayName: z.string().trim().max(120).nullish(),
  dailyLimit: dailyLimitSchema.nullish(),
  sendWindow: sendWindowSchema.nullish(),
  pacing: pacingSchema.nullish(),
  status: z
    .enum(MailboxStatus)
    .refine((status) => status !== MailboxStatus.FAILING, 'may be ACTIVE or PAUSED; a failing mailbox is repaired by connecting it again')
    .nullish(),
});

const defaultWindow = { timeZone: 'UTC', start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };
const defaultPacing = { minimumSecondsBetweenSends: 90, jitterSeconds: 60 };

export interface MailboxServiceOptions {
  secrets: SecretBox;
  mail: MailConnector;
  /** PUBLIC_URL. */
  publicUrl: string;
}

/** Connecting, changing and reading mailboxes; the one place their secrets are sealed and opened. */
export class MailboxService {
  constructor(private readonly options: MailboxServiceOptions) {}

  get(context: ConversationContext, id: string): Promise<Mailbox | null> {
    return context.loaders.mailboxById.load(id);
  }

  list(context: ConversationContext): Promise<Mailbox[]> {
    return context.em.find(Mailbox, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /**
   * Verifies the servers with a real login (SMTP and IMAP at once), then stores the mailbox, its
   * passwords sealed. Connecting an address again replaces its settings and clears a failure.
   */
  async connect(context: ConversationContext, input: ConnectMailboxInput): Promise<Mailbox> {
    const fields = parseInput(connectSchema, input);
    const smtp = { ...fields.smtp } as MailServerSettings;
    const imap = fields.imap ? ({ ...fields.imap } as MailServerSettings) : null;
    const imapFolder = fields.imap?.folder ?? (imap ? 'INBOX' : null);
    const [smtpCheck, imapCheck] = await Promise.allSettled([
      this.options.mail.smtp(smtp).verify(),
      imap ? this.options.mail.verifyImap(imap, imapFolder!) : Promise.resolve(null),
    ]);
    if (smtpCheck.status === 'rejected') throw verificationError(smtpCheck.reason, 'smtp', context.logger);
    if (imapCheck.status === 'rejected') throw verificationError(imapCheck.reason, 'imap', context.logger);

    const window = fields.sendWindow ? { ...fields.sendWindow, days: fields.sendWindow.days.map((day) => weekdayNumbers[day]) } : defaultWindow;
    const pacing = fields.pacing ?? defaultPacing;
    const existing = await context.em.findOne(Mailbox, { address: fields.address });
    const mailbox =
      existing ??
      context.em.create(Mailbox, {
        tenantId: context.caller.tenantId,
        address: fields.address,
        smtpHost: smtp.host,
        smtpPort: smtp.port,
        smtpSecurity: smtp.security,
        smtpUsername: smtp.username,
        sealedSecrets: '',
        secretHints: {},
        dailyLimit: fields.dailyLimit,
        timeZone: window.timeZone,
        windowStart: window.start,
        windowEnd: window.end,
        sendDays: window.days,
        pacingSeconds: pacing.minimumSecondsBetweenSends,
        pacingJitterSeconds: pacing.jitterSeconds,
      });
    const imapChanged = !existing || existing.imapHost !== (imap?.host ?? null) || existing.imapUsername !== (imap?.username ?? null) || existing.imapFolder !== imapFolder;
    const secrets: MailboxSecrets = { smtpPassword: smtp.password, imapPassword: imap?.password ?? null, webhookSecret: fields.webhookSecret ?? null };
    context.em.assign(mailbox, {
      displayName: fields.displayName,
      smtpHost: smtp.host,
      smtpPort: smtp.port,
      smtpSecurity: smtp.security,
      smtpUsername: smtp.username,
      imapHost: imap?.host ?? null,
      imapPort: imap?.port ?? null,
      imapSecurity: imap?.security ?? null,
      imapUsername: imap?.username ?? null,
      imapFolder,
      sealedSecrets: this.options.secrets.sealJson(secrets, secretOwner(mailbox)),
      secretHints: { smtpPassword: maskSecret(smtp.password), imapPassword: imap ? maskSecret(imap.password) : null, webhookSecret: fields.webhookSecret ? maskSecret(fields.webhookSecret) : null },
      dailyLimit: fields.dailyLimit,
      timeZone: window.timeZone,
      windowStart: window.start,
      windowEnd: window.end,
      sendDays: window.days,
      pacingSeconds: pacing.minimumSecondsBetweenSends,
      pacingJitterSeconds: pacing.jitterSeconds,
      status: MailboxStatus.ACTIVE,
      lastError: null,
    });
    // Mail that was in the folder before the mailbox was connected is not a reply to us: reading
    // starts after the newest message there now.
    if (imapChanged && imapCheck.value) {
      mailbox.imapUidValidity = imapCheck.value.position.uidValidity;
      mailbox.imapLastUid = String(imapCheck.value.position.lastUid);
    }
    await context.em.persist(mailbox).flush();
    context.logger.info({ mailboxId: mailbox.id, smtpHost: smtp.host, imapHost: imap?.host ?? null }, 'mailbox connected');
    return mailbox;
  }

  async update(context: ConversationContext, id: string, input: UpdateMailboxInput): Promise<Mailbox> {
    const fields = parseInput(updateSchema, input);
    const mailbox = await context.loaders.mailboxById.load(id);
    if (!mailbox) throw notFound('Mailbox', id);
    if (fields.displayName !== undefined) mailbox.displayName = fields.displayName || null;
    if (fields.dailyLimit) mailbox.dailyLimit = fields.dailyLimit;
    if (fields.sendWindow) {
      mailbox.timeZone = fields.sendWindow.timeZone;
      mailbox.windowStart = fields.sendWindow.start;
      mailbox.windowEnd = fields.sendWindow.end;
      mailbox.sendDays = fields.sendWindow.days.map((day) => weekdayNumbers[day]);
    }
    if (fields.pacing) {
      mailbox.pacingSeconds = fields.pacing.minimumSecondsBetweenSends;
      mailbox.pacingJitterSeconds = fields.pacing.jitterSeconds;
    }
    if (fields.status) {
      if (mailbox.status === MailboxStatus.FAILING && fields.status === MailboxStatus.ACTIVE) {
        throw badUserInput(`Mailbox ${id} is failing (${mailbox.lastError ?? 'its server refused it'}); connect it again with working settings.`, 'status');
      }
      mailbox.status = fields.status;
    }
    await context.em.flush();
    return mailbox;
  }

  /**
   * A mailbox by id whatever its tenant, its secrets loaded: for the work that starts from a mailbox
   * id alone (an inbound webhook, the inbox watcher). Null when there is none.
   */
  async findAnyTenant(database: Database, id: string): Promise<Mailbox | null> {
    if (!isUuid(id)) return null;
    return database.orm.em.fork().findOne(Mailbox, { id: id.toLowerCase() }, { filters: false, populate: ['sealedSecrets'] });
  }

  /** Every mailbox that reads an inbox (IMAP), of every tenant: what the inbox watcher watches. */
  async listWithInbox(database: Database): Promise<Mailbox[]> {
    return database.orm.em.fork().find(Mailbox, { imapHost: { $ne: null } }, { filters: false, populate: ['sealedSecrets'], orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** The mailbox's passwords and webhook secret, opened; for sending, reading and verifying webhooks only. */
  async secretsOf(em: EntityManager, mailbox: Mailbox): Promise<MailboxSecrets> {
    if (!mailbox.sealedSecrets) await em.populate(mailbox, ['sealedSecrets']);
    return this.options.secrets.openJson<MailboxSecrets>(mailbox.sealedSecrets, secretOwner(mailbox));
  }

  smtpSettingsOf(mailbox: Mailbox, secrets: MailboxSecrets): MailServerSettings {
    return { host: mailbox.smtpHost, port: mailbox.smtpPort, security: mailbox.smtpSecurity, username: mailbox.smtpUsername, password: secrets.smtpPassword };
  }

  imapSettingsOf(mailbox: Mailbox, secrets: MailboxSecrets): MailServerSettings | null {
    if (!mailbox.imapHost || !mailbox.imapPort || !mailbox.imapSecurity || !mailbox.imapUsername || !secrets.imapPassword) return null;
    return { host: mailbox.imapHost, port: mailbox.imapPort, security: mailbox.imapSecurity, username: mailbox.imapUsername, password: secrets.imapPassword };
  }

  toType(mailbox: Mailbox): MailboxType {
    const hints = mailbox.secretHints ?? {};
    const days = Object.entries(weekdayNumbers)
      .filter(([, number]) => mailbox.sendDays.includes(number))
      .map(([day]) => day as Weekday);
    return {
      id: mailbox.id,
      address: mailbox.address,
      displayName: mailbox.displayName,
      smtp: { host: mailbox.smtpHost, port: mailbox.smtpPort, security: mailbox.smtpSecurity, username: mailbox.smtpUsername, passwordHint: hints['smtpPassword'] ?? '••••', folder: null },
      imap:
        mailbox.imapHost && mailbox.imapPort && mailbox.imapSecurity && mailbox.imapUsername
          ? { host: mailbox.imapHost, port: mailbox.imapPort, security: mailbox.imapSecurity, username: mailbox.imapUsername, passwordHint: hints['imapPassword'] ?? '••••', folder: mailbox.imapFolder }
          : null,
      dailyLimit: mailbox.dailyLimit,
      sendWindow: { timeZone: mailbox.timeZone, start: mailbox.windowStart, end: mailbox.windowEnd, days },
      pacing: { minimumSecondsBetweenSends: mailbox.pacingSeconds, jitterSeconds: mailbox.pacingJitterSeconds },
      status: mailbox.status,
      lastError: mailbox.lastError,
      lastReadAt: mailbox.lastReadAt,
      webhookUrl: `${this.options.publicUrl}/webhooks/email/${mailbox.id}`,
      webhookSecretHint: hints['webhookSecret'] ?? null,
      createdAt: mailbox.createdAt,
      updatedAt: mailbox.updatedAt,
    };
  }
}

/** The send window of a mailbox, as the planner reads it. */
export function sendWindowOf(mailbox: Mailbox): SendWindow {
  return { timeZone: mailbox.timeZone, start: mailbox.windowStart, end: mailbox.windowEnd, days: mailbox.sendDays };
}

/** Binds a mailbox's sealed secrets to it: a sealed value copied onto another row does not open. */
function secretOwner(mailbox: Mailbox): string {
  return `mailbox:${mailbox.tenantId}:${mailbox.id}`;
}

function verificationError(error: unknown, field: string, logger: Logger) {
  if (error instanceof MailServerError) return badUserInput(`Could not connect the mailbox: ${error.message}`, field, { reason: error.reason });
  logger.error({ err: error }, 'unexpected failure while verifying a mailbox');
  return badUserInput('Could not connect the mailbox: its server could not be checked.', field, { reason: 'PROTOCOL' });
}
