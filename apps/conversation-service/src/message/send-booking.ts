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

/**
 * Locks the mailbox row for the rest of `transaction` and returns a planner over the sends it has
 * booked from the start of its local today: two bookings of one mailbox never run at once, so they
 * never take the same slot or exceed the daily limit together.
 */
export async function lockMailboxForBooking(transaction: EntityManager, mailboxId: string, now: Date = new Date()): Promise<{ mailbox: Mailbox; planner: SendPlanner } | null> {
  const mailbox = await transaction.findOne(Mailbox, { id: mailboxId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!mailbox) return null;
  const from = DateTime.fromJSDate(now, { zone: mailbox.timeZone }).startOf('day').minus({ seconds: mailbox.pacingSeconds }).toJSDate();
  const rows = (await transaction
    .createQueryBuilder(Message, 'message')
    .select(raw('coalesce(message.sent_at, message.scheduled_at) as at'))
    .where({ mailboxId: mailbox.id, status: { $in: holdingSlot } })
    .andWhere(raw('coalesce(message.sent_at, message.scheduled_at) >= ?', [from]))
    .execute('all')) as unknown as { at: Date | string }[];
  const planner = new SendPlanner({
    window: sendWindowOf(mailbox),
    dailyLimit: mailbox.dailyLimit,
    pacingSeconds: mailbox.pacingSeconds,
    pacingJitterSeconds: mailbox.pacingJitterSeconds,
    booked: rows.map((row) => new Date(row.at)),
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
