import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import { MailSecurity } from '../mail/mail-security.js';

export enum MailboxStatus {
  /** Sends and reads. */
  ACTIVE = 'ACTIVE',
  /** Paused by a person: nothing is sent (scheduled messages wait), replies are still read. */
  PAUSED = 'PAUSED',
  /** Its server refused the login: nothing is sent until it is connected again with working settings. */
  FAILING = 'FAILING',
}

/** What a mailbox keeps sealed (libs/secrets), bound to its tenant and id. */
export interface MailboxSecrets {
  smtpPassword: string;
  imapPassword: string | null;
  webhookSecret: string | null;
}

/** A sending address with its SMTP and IMAP servers, caps, send window and pacing. */
@Entity({ tableName: 'mailbox' })
export class Mailbox extends TenantScopedEntity {
  /** Lower-case; one mailbox per address and tenant. */
  @Property({ type: 'text' })
  address!: string;

  @Property({ type: 'text', nullable: true })
  displayName: string | null = null;

  @Property({ type: 'text' })
  smtpHost!: string;

  @Property({ type: 'integer' })
  smtpPort!: number;

  @Enum({ items: () => MailSecurity, nativeEnumName: undefined })
  smtpSecurity!: MailSecurity;

  @Property({ type: 'text' })
  smtpUsername!: string;

  @Property({ type: 'text', nullable: true })
  imapHost: string | null = null;

  @Property({ type: 'integer', nullable: true })
  imapPort: number | null = null;

  @Enum({ items: () => MailSecurity, nativeEnumName: undefined, nullable: true })
  imapSecurity: MailSecurity | null = null;

  @Property({ type: 'text', nullable: true })
  imapUsername: string | null = null;

  @Property({ type: 'text', nullable: true })
  imapFolder: string | null = null;

  /** `MailboxSecrets`, sealed with SECRETS_KEY; never returned, never logged. */
  @Property({ type: 'text', lazy: true })
  sealedSecrets!: string;

  /** Masked hints of the secrets, for the API: `{ smtpPassword: '••••' … }`. */
  @Property({ type: 'json' })
  secretHints!: Record<string, string | null>;

  /** Messages sent per day at most (the day in `timeZone`). */
  @Property({ type: 'integer' })
  dailyLimit!: number;

  /** IANA time zone of the send window and of the daily cap's day. */
  @Property({ type: 'text' })
  timeZone!: string;

  /** `HH:MM`, local time: sending starts. */
  @Property({ type: 'text' })
  windowStart!: string;

  /** `HH:MM`, local time: nothing is sent at or after it. */
  @Property({ type: 'text' })
  windowEnd!: string;

  /** ISO weekdays (1 Monday … 7 Sunday) on which messages are sent. */
  @Property({ type: 'integer[]' })
  sendDays!: number[];

  /** Least time between two sends, so a mailbox sends like a person and not like a blast. */
  @Property({ type: 'integer' })
  pacingSeconds!: number;

  /** Up to this many seconds more, at random, between two sends. */
  @Property({ type: 'integer' })
  pacingJitterSeconds!: number;

  @Enum({ items: () => MailboxStatus, nativeEnumName: undefined })
  status: Opt<MailboxStatus> = MailboxStatus.ACTIVE;

  /** Why the mailbox last failed (no secret in it), or null. */
  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastReadAt: Date | null = null;

  /** Where reading the IMAP folder stopped (see `InboxPosition`). */
  @Property({ type: 'text', nullable: true })
  imapUidValidity: string | null = null;

  @Property({ type: 'bigint', nullable: true })
  imapLastUid: string | null = null;
}
