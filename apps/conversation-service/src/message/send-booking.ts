import { LockMode, raw } from '@mikro-orm/core';
import { enqueueTask } from '@gtm/jobs';
import type { EntityManager } from '@gtm/runtime';
import { DateTime } from 'luxon';
import { Mailbox } from '../mailbox/mailbox.entity.js';
import { sendWindowOf } from '../mailbox/mailbox.service.js';
import { SendPlanner } from '../mailbox/send-window.js';
import { Message, MessageStatus } from './message.entity.js';

export const sendMessageTask = 'conversation.send-message';

/** One send task per message, however often it is (re)scheduled. */
export const sendTaskKey = (messageId: string) => `conversation-send:${messageId}`;

/** Statuses that hold a send slot of their mailbox. */
const holdingSlot = [MessageStatus.SCHEDULED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.BOUNCED];

export interface BookingScope {
  /** The earliest time about to be booked. Default: now. */
  from?: Date;
  /**
   * How far past `from` the sends already booked are read for the pacing; bookings further out are
   * still counted for the daily limit. Default: all of them (an enrolment, which may book weeks ahead).
   * A send booking its next step reads a few days: its cost then stays flat however many sends the
   * mailbox holds.
   */
  horizonDays?: number;
}

/**
 * Locks the mailbox row for the rest of `transaction` and returns a planner over the sends it has
 * booked from the start of the local day of `from`: two bookings of one mailbox never run at once,
 * so they never take the same slot or exceed the daily limit together. The daily counts come from
 * one grouped query; the booked times themselves only when the mailbox paces its sends.
 */
export async function lockMailboxForBooking(transaction: EntityManager, mailboxId: string, scope: BookingScope = {}): Promise<{ mailbox: Mailbox; planner: SendPlanner } | null> {
  const mailbox = await transaction.findOne(Mailbox, { id: mailboxId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!mailbox) return null;
  const from = scope.from ?? new Date();
  const dayStart = DateTime.fromJSDate(from, { zone: mailbox.timeZone }).startOf('day').toJSDate();
  const bookedAt = 'coalesce(message.sent_at, message.scheduled_at)';
  const perDay = (await transaction
    .createQueryBuilder(Message, 'message')
    .select([raw(`to_char(${bookedAt} at time zone ?, 'YYYY-MM-DD') as day`, [mailbox.timeZone]), raw('count(*)::int as sends')])
    .where({ mailboxId: mailbox.id, status: { $in: holdingSlot } })
    .andWhere(raw(`${bookedAt} >= ?`, [dayStart]))
    .groupBy(raw(`to_char(${bookedAt} at time zone ?, 'YYYY-MM-DD')`, [mailbox.timeZone]))
    .execute('all')) as unknown as { day: string; sends: number }[];
  let booked: Date[] = [];
  if (mailbox.pacingSeconds > 0) {
    const pacing = (mailbox.pacingSeconds + mailbox.pacingJitterSeconds) * 1000;
    const query = transaction
      .createQueryBuilder(Message, 'message')
      .select(raw(`${bookedAt} as at`))
      .where({ mailboxId: mailbox.id, status: { $in: holdingSlot } })
      .andWhere(raw(`${bookedAt} >= ?`, [new Date(Math.min(dayStart.getTime(), from.getTime() - pacing))]));
    if (scope.horizonDays !== undefined) query.andWhere(raw(`${bookedAt} < ?`, [new Date(from.getTime() + scope.horizonDays * 86_400_000 + pacing)]));
    booked = ((await query.execute('all')) as unknown as { at: Date | string }[]).map((row) => new Date(row.at));
  }
  const planner = new SendPlanner({
    window: sendWindowOf(mailbox),
    dailyLimit: mailbox.dailyLimit,
    pacingSeconds: mailbox.pacingSeconds,
    pacingJitterSeconds: mailbox.pacingJitterSeconds,
    booked,
    bookedPerDay: new Map(perDay.map((row) => [row.day, Number(row.sends)])),
  });
  return { mailbox, planner };
}

/** Books `message` at the first slot from `earliest` and enqueues its send task, in `transaction`. */
export async function bookSend(transaction: EntityManager, planner: SendPlanner, message: Message, earliest: Date): Promise<void> {
  message.scheduledAt = planner.book(earliest);
  message.status = MessageStatus.SCHEDULED;
  await enqueueSend(transaction, message);
}

export async function enqueueSend(transaction: EntityManager, message: Message, runAt: Date = message.scheduledAt ?? new Date()): Promise<void> {
  await enqueueTask(transaction, {
    task: sendMessageTask,
    payload: { tenantId: message.tenantId, messageId: message.id },
    runAt,
    jobKey: sendTaskKey(message.id),
    // Retries of a server that is away: e^n seconds apart, about two hours in all.
    maxAttempts: 9,
  });
}
