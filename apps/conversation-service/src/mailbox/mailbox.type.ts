import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MailSecurity } from '../mail/mail-security.js';
import { MailboxStatus } from './mailbox.entity.js';

registerEnumType(MailboxStatus, { name: 'MailboxStatus', description: 'Whether a mailbox sends.' });

export enum Weekday {
  MONDAY = 'MONDAY',
  TUESDAY = 'TUESDAY',
  WEDNESDAY = 'WEDNESDAY',
  THURSDAY = 'THURSDAY',
  FRIDAY = 'FRIDAY',
  SATURDAY = 'SATURDAY',
  SUNDAY = 'SUNDAY',
}

registerEnumType(Weekday, { name: 'Weekday' });

/** ISO weekday numbers (1 Monday … 7 Sunday) by name, in order. */
export const weekdayNumbers: Record<Weekday, number> = {
  [Weekday.MONDAY]: 1,
  [Weekday.TUESDAY]: 2,
  [Weekday.WEDNESDAY]: 3,
  [Weekday.THURSDAY]: 4,
  [Weekday.FRIDAY]: 5,
  [Weekday.SATURDAY]: 6,
  [Weekday.SUNDAY]: 7,
};

@ObjectType('MailServer', { description: 'Where a mailbox sends or reads, without its password.' })
export class MailServerType {
  @Field()
  host!: string;

  @Field(() => Int)
  port!: number;

  @Field(() => MailSecurity)
  security!: MailSecurity;

  @Field()
  username!: string;

  @Field({ description: 'A masked hint of the stored password; the password itself is never returned.' })
  passwordHint!: string;

  @Field(() => String, { nullable: true, description: 'IMAP only: the folder replies are read from.' })
  folder!: string | null;
}

@ObjectType('SendWindow', { description: 'When a mailbox sends: local hours on some weekdays.' })
export class SendWindowType {
  @Field({ description: 'IANA time zone, e.g. Europe/Berlin; the daily limit counts days in it too.' })
  timeZone!: string;

  @Field({ description: 'HH:MM local time sending starts.' })
  start!: string;

  @Field({ description: 'HH:MM local time sending stops.' })
  end!: string;

  @Field(() => [Weekday])
  days!: Weekday[];
}

@ObjectType('SendPacing', { description: 'Time between two sends of a mailbox, so it sends like a person.' })
export class SendPacingType {
  @Field(() => Int)
  minimumSecondsBetweenSends!: number;

  @Field(() => Int, { description: 'Up to this many seconds more, at random.' })
  jitterSeconds!: number;
}

@ObjectType('Mailbox', { description: 'A sending address with its SMTP and IMAP servers, caps and send window.' })
@Directive('@key(fields: "id")')
export class MailboxType {
  @Field(() => ID)
  id!: string;

  @Field()
  address!: string;

  @Field(() => String, { nullable: true })
  displayName!: string | null;

  @Field(() => MailServerType)
  smtp!: MailServerType;

  @Field(() => MailServerType, { nullable: true, description: 'Null when replies arrive only through the webhook.' })
  imap!: MailServerType | null;

  @Field(() => Int, { description: 'Messages sent per day at most (a day in the window’s time zone).' })
  dailyLimit!: number;

  @Field(() => SendWindowType)
  sendWindow!: SendWindowType;

  @Field(() => SendPacingType)
  pacing!: SendPacingType;

  @Field(() => MailboxStatus)
  status!: MailboxStatus;

  @Field(() => String, { nullable: true, description: 'Why the mailbox last failed to send or read, or null.' })
  lastError!: string | null;

  @Field(() => Date, { nullable: true, description: 'When its inbox was last read.' })
  lastReadAt!: Date | null;

  @Field({ description: 'Where a mail provider posts inbound messages for this mailbox (raw RFC 5322, signed with the webhook secret).' })
  webhookUrl!: string;

  @Field(() => String, { nullable: true, description: 'A masked hint of the webhook secret, or null when none is set (the webhook then refuses every call).' })
  webhookSecretHint!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}
