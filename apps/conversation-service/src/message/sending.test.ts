import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSubgraphClient, createTestCaller, createSubgraphTestSetup, headerOf, startMailSink, type MailSink, type SubgraphTestSetup } from '@gtm/testing';
import { createApp, type ConversationApp } from '../app.js';
import { loadConfig } from '../config.js';
import { Conversation } from '../conversation/conversation.entity.js';
import { ConversationState } from '../conversation/conversation-state.js';
import { newMessageId } from '../mail/message-id.js';
import { Message, MessageDirection, MessageKind, MessageStatus } from './message.entity.js';
import { bookSend, enqueueSend, lockMailboxForBooking } from './send-booking.js';

const password = 'sink-password-123';
const address = 'sender@restart.example';
let setup: SubgraphTestSetup;
let sink: MailSink;
const caller = createTestCaller();

beforeAll(async () => {
  [setup, sink] = await Promise.all([createSubgraphTestSetup(), startMailSink({ users: { [address]: password } })]);
});

afterAll(async () => {
  await sink?.close();
  await setup?.dispose();
});

const start = () =>
  createApp(loadConfig({ ...setup.environment, MAIL_HOST_ALLOWLIST: '127.0.0.1', MAILBOX_WATCHER_ENABLED: 'false', JOB_WORKER_CONCURRENCY: '2' }), { jobWorker: { pollIntervalMs: 200, shutdownAbortAfterMs: 1_000 } });

/** A conversation with a three-step sequence, as enrolment writes it, its first step booked now. */
async function seedSequence(app: ConversationApp, mailboxId: string, lead: string, options: { interruptedFirst?: boolean } = {}): Promise<string[]> {
  const em = app.database.forkForTenant(caller.tenantId);
  return em.transactional(async (transaction) => {
    const booking = await lockMailboxForBooking(transaction, mailboxId);
    const conversation = transaction.create(Conversation, { tenantId: caller.tenantId, leadId: randomUUID(), subject: `Hello ${lead}`, state: ConversationState.INITIAL_OUTREACH, mailboxId, leadEmail: lead });
    await transaction.flush();
    const ids: string[] = [];
    const chain: string[] = [];
    for (const step of [1, 2, 3]) {
      const header = newMessageId(address);
      const message = transaction.create(Message, {
        tenantId: caller.tenantId,
        conversationId: conversation.id,
        mailboxId,
        direction: MessageDirection.OUTBOUND,
        kind: MessageKind.SEQUENCE_STEP,
        status: MessageStatus.QUEUED,
        step,
        delayDays: 0,
        subject: step === 1 ? `Hello ${lead}` : `Re: Hello ${lead}`,
        body: `Step ${step} for ${lead}`,
        messageIdHeader: header,
        inReplyTo: chain.at(-1) ?? null,
        referenceIds: [...chain],
        fromAddress: address,
        toAddress: lead,
      });
      chain.push(header);
      ids.push(header);
      if (step === 1) {
        if (options.interruptedFirst) {
          // What a process that died between claiming and recording a send leaves behind.
          message.status = MessageStatus.SENDING;
          message.scheduledAt = new Date();
          await enqueueSend(transaction, message);
        } else await bookSend(transaction, booking!.planner, message, new Date());
      }
    }
    return ids;
  });
}

describe('sending across a restart', () => {
  it('carries on a sequence after the service stops mid-way, and never sends a message twice — an interrupted send included', async () => {
    let app = await start();
    const call = createSubgraphClient(app.url, setup.callerKeys.signer);
    const connected = await call(caller, `mutation ($input: ConnectMailboxInput!) { connectMailbox(input: $input) { id } }`, {
      input: {
        address,
        smtp: { host: '127.0.0.1', port: sink.port, security: 'NONE', username: address, password },
        dailyLimit: 100,
        sendWindow: { timeZone: 'UTC', start: '00:00', end: '23:59', days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] },
        // Two seconds between sends, so the service stops with steps still to go.
        pacing: { minimumSecondsBetweenSends: 2, jitterSeconds: 0 },
      },
    });
    expect(connected.errors).toBeUndefined();
    const mailboxId = connected.data!['connectMailbox'].id as string;
    const steady = await seedSequence(app, mailboxId, 'steady@lead.example');
    const interrupted = await seedSequence(app, mailboxId, 'interrupted@lead.example', { interruptedFirst: true });

    await sink.waitFor((message) => headerOf(message, 'message-id') === steady[0]);
    await app.close();
    const sentBeforeRestart = sink.acceptedCount;

    app = await start();
    try {
      await sink.waitFor((message) => headerOf(message, 'message-id') === steady[2], 60_000);
      await sink.waitFor((message) => headerOf(message, 'message-id') === interrupted[2], 60_000);
      // Give a duplicate every chance to show up.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const sent = sink.messages().map((message) => headerOf(message, 'message-id')!);
      expect(sent.filter((id) => steady.includes(id)).toSorted()).toEqual([...steady].toSorted());
      expect(new Set(sent).size).toBe(sent.length);
      // The interrupted send is never repeated (the server may have taken it); the sequence goes on.
      expect(sent).not.toContain(interrupted[0]);
      expect(sent.filter((id) => interrupted.includes(id)).toSorted()).toEqual([interrupted[1], interrupted[2]].toSorted());
      expect(sentBeforeRestart).toBeGreaterThanOrEqual(1);

      const em = app.database.forkForTenant(caller.tenantId);
      const first = await em.findOneOrFail(Message, { messageIdHeader: interrupted[0] });
      expect(first).toMatchObject({ status: MessageStatus.FAILED, error: expect.stringContaining('Interrupted while sending') });
      const steps = await em.find(Message, { messageIdHeader: { $in: steady } }, { orderBy: { step: 'asc' } });
      expect(steps.map((message) => message.status)).toEqual([MessageStatus.SENT, MessageStatus.SENT, MessageStatus.SENT]);
      expect(steps.map((message) => message.attempts)).toEqual([1, 1, 1]);
      // Paced: each step at least two seconds after the one before, across the restart too.
      for (let index = 1; index < steps.length; index += 1) expect(steps[index]!.sentAt!.getTime() - steps[index - 1]!.sentAt!.getTime()).toBeGreaterThanOrEqual(1_900);
    } finally {
      await app.close();
    }
  });

  it('retries while the SMTP server is away, and sends the message once when it is back', async () => {
    const app = await start();
    try {
      const call = createSubgraphClient(app.url, setup.callerKeys.signer);
      const mailboxId = (
        await call(caller, `mutation ($input: ConnectMailboxInput!) { connectMailbox(input: $input) { id } }`, {
          input: {
            address,
            smtp: { host: '127.0.0.1', port: sink.port, security: 'NONE', username: address, password },
            dailyLimit: 100,
            sendWindow: { timeZone: 'UTC', start: '00:00', end: '23:59', days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] },
            pacing: { minimumSecondsBetweenSends: 0, jitterSeconds: 0 },
          },
        })
      ).data!['connectMailbox'].id as string;
      sink.setUnavailable(true);
      const [first] = await seedSequence(app, mailboxId, 'patient@lead.example');
      const em = app.database.forkForTenant(caller.tenantId);
      // The first attempt meets a server that answers 421; the message waits, booked again by graphile-worker's backoff.
      const waiting = await (async () => {
        for (;;) {
          const message = await em.fork().findOneOrFail(Message, { messageIdHeader: first });
          if (message.attempts >= 1 && message.status === MessageStatus.SCHEDULED) return message;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      expect(waiting.error).toMatch(/SMTP 127\.0\.0\.1:\d+ deferred .* \(421\)|could not be reached/);
      sink.setUnavailable(false);
      await sink.waitFor((message) => headerOf(message, 'message-id') === first, 30_000);
      // The sink has it; the service records it a moment later.
      const sent = await (async () => {
        for (;;) {
          const message = await em.fork().findOneOrFail(Message, { messageIdHeader: first });
          if (message.status !== MessageStatus.SENDING) return message;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      expect(sent.status).toBe(MessageStatus.SENT);
      expect(sent.attempts).toBeGreaterThanOrEqual(2);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(sink.messages().filter((message) => headerOf(message, 'message-id') === first)).toHaveLength(1);
    } finally {
      sink.setUnavailable(false);
      await app.close();
    }
  });
});
