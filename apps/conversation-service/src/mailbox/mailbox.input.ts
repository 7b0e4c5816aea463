import { Field, InputType, Int } from 'type-graphql';
import { MailSecurity } from '../mail/mail-security.js';
import { MailboxStatus } from './mailbox.entity.js';
import { Weekday } from './mailbox.type.js';

@InputType({ description: 'An SMTP or IMAP server and its login.' })
export class MailServerInput {
  @Field()
  host!: string;

  @Field(() => Int)
  port!: number;

  @Field(() => MailSecurity, { description: 'TLS (465, 993), STARTTLS (587, 143) or NONE (a local relay only).' })
  security!: MailSecurity;

  @Field()
  username!: string;

  @Field({ description: 'Stored encrypted; never returned.' })
  password!: string;

  @Field(() => String, { nullable: true, description: 'IMAP only: the folder to read replies from. Default: INBOX.' })
  folder?: string | null;
}

@InputType()
export class SendWindowInput {
  @Field({ description: 'IANA time zone, e.g. America/New_York.' })
  timeZone!: string;

  @Field({ defaultValue: '09:00', description: 'HH:MM local. Default: 09:00.' })
  start!: string;

  @Field({ defaultValue: '17:00', description: 'HH:MM local, after start. Default: 17:00.' })
  end!: string;

  @Field(() => [Weekday], { defaultValue: [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY], description: 'Default: Monday to Friday.' })
  days!: Weekday[];
}

@InputType()
export class SendPacingInput {
  @Field(() => Int, { description: '0 to 86 400.' })
  minimumSecondsBetweenSends!: number;

  @Field(() => Int, { defaultValue: 0, description: '0 to 3 600. Default: 0.' })
  jitterSeconds!: number;
}

@InputType()
export class ConnectMailboxInput {
  @Field({ description: 'The sending address. Connecting an address again replaces its settings.' })
  address!: string;

  @Field(() => String, { nullable: true, description: 'The name leads see, and {{senderName}} in a sequence.' })
  displayName?: string | null;

  @Field(() => MailServerInput)
  smtp!: MailServerInput;

  @Field(() => MailServerInput, { nullable: true, description: 'Where replies are read. Without it, replies arrive only through the webhook.' })
  imap?: MailServerInput | null;

  @Field(() => Int, { defaultValue: 50, description: '1 to 2 000 messages a day. Default: 50.' })
  dailyLimit!: number;

  @Field(() => SendWindowInput, { nullable: true, description: 'Default: 09:00–17:00, Monday to Friday, UTC.' })
  sendWindow?: SendWindowInput | null;

  @Field(() => SendPacingInput, { nullable: true, description: 'Default: 90 seconds between sends, plus up to 60 at random.' })
  pacing?: SendPacingInput | null;

  @Field(() => String, { nullable: true, description: 'The secret inbound webhooks are signed with (16 to 200 characters). Without it the webhook refuses every call.' })
  webhookSecret?: string | null;
}

@InputType()
export class UpdateMailboxInput {
  @Field(() => String, { nullable: true })
  displayName?: string | null;

  @Field(() => Int, { nullable: true })
  dailyLimit?: number | null;

  @Field(() => SendWindowInput, { nullable: true })
  sendWindow?: SendWindowInput | null;

  @Field(() => SendPacingInput, { nullable: true })
  pacing?: SendPacingInput | null;

  @Field(() => MailboxStatus, { nullable: true, description: 'ACTIVE or PAUSED. A FAILING mailbox becomes ACTIVE by connecting it again.' })
  status?: MailboxStatus | null;
}
