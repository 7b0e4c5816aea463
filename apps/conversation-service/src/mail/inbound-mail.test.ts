import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { bounceKindOf } from './delivery-status.js';
import { MalformedMailError, OversizedMailError, parseInboundMail } from './inbound-mail.js';
import { mailFixture } from './mail-fixtures.fixture.js';

const values = { lead: 'dana@lead.example', mailbox: 'sam@sender.example', outboundMessageId: '<7d1c0a52-1111-4a3b-9c6d-000000000001@sender.example>' };
const parse = (raw: Buffer | string, maxBytes = 10 * 1024 * 1024) => parseInboundMail(Readable.from([typeof raw === 'string' ? Buffer.from(raw) : raw]), { maxBytes });

describe('inbound mail', () => {
  it('reads a Gmail reply: threading headers, and only the new words', async () => {
    const mail = await parse(mailFixture('gmail-reply-interested.eml', { ...values, references: ['<a@x>', values.outboundMessageId] }));
    expect(mail.inReplyTo).toBe(values.outboundMessageId);
    expect(mail.references).toEqual(['<a@x>', values.outboundMessageId]);
    expect(mail.from).toEqual({ address: 'dana@lead.example', name: 'Dana Whitfield' });
    expect(mail.subject).toBe('Re: Closing the books faster at Tidewater');
    expect(mail.replyText).toContain('What does pricing look like for a team of 12 accountants?');
    expect(mail.replyText).toContain('Could we do a call next Tuesday');
    expect(mail.replyText).not.toContain('closes the books in days');
    expect(mail.replyText).not.toContain('wrote:');
    expect(mail.autoReply).toBeNull();
    expect(mail.deliveryStatus).toBeNull();
  });

  it('reads an Outlook reply: the From/Sent quote block and the signature are cut', async () => {
    const mail = await parse(mailFixture('outlook-reply-objection.eml', values));
    expect(mail.replyText).toContain('we already use a close-management tool');
    expect(mail.replyText).not.toContain('Sent: 07 December');
    expect(mail.replyText).not.toContain('closes the books in days');
    expect(mail.replyText).not.toContain('Financial Controller');
  });

  it('reads an Apple Mail reply: "Sent from my iPhone" and the quote are cut', async () => {
    const mail = await parse(mailFixture('apple-mail-reply-unsubscribe.eml', values));
    expect(mail.replyText).toBe('Please remove me from your mailing list and stop emailing me.');
  });

  it('reads a reply in ISO-8859-1 with an encoded subject', async () => {
    const mail = await parse(mailFixture('thunderbird-reply-latin1.eml', { ...values, subject: 'Grüße zum Monatsabschluss' }));
    expect(mail.subject).toBe('AW: Grüße zum Monatsabschluss');
    expect(mail.replyText).toContain('vielen Dank für Ihre Nachricht');
    expect(mail.replyText).toContain('Können wir nächste Woche telefonieren?');
    expect(mail.replyText).not.toContain('closes the books');
  });

  it('reads a hard bounce: the report, and the Message-ID of the message it returns', async () => {
    const mail = await parse(mailFixture('postfix-dsn-hard-bounce.eml', values));
    expect(mail.deliveryStatus?.recipients).toEqual([{ recipient: 'dana@lead.example', action: 'failed', status: '5.1.1', diagnostic: expect.stringContaining('User unknown') }]);
    expect(bounceKindOf(mail.deliveryStatus!.recipients[0]!)).toBe('HARD');
    expect(mail.embeddedMessageIds).toEqual([values.outboundMessageId]);
    expect(mail.autoReply).toBeNull();
  });

  it('tells a soft bounce and a delay warning apart', async () => {
    const soft = await parse(mailFixture('exchange-dsn-soft-bounce.eml', values));
    expect(bounceKindOf(soft.deliveryStatus!.recipients[0]!)).toBe('SOFT');
    expect(soft.inReplyTo).toBe(values.outboundMessageId);
    const delayed = await parse(mailFixture('postfix-dsn-delayed.eml', values));
    expect(bounceKindOf(delayed.deliveryStatus!.recipients[0]!)).toBe('NONE');
    expect(delayed.embeddedMessageIds).toEqual([values.outboundMessageId]);
  });

  it('recognises out-of-office replies by their headers and subject', async () => {
    expect((await parse(mailFixture('outlook-out-of-office.eml', values))).autoReply).toBe('OUT_OF_OFFICE');
    expect((await parse(mailFixture('gmail-vacation-responder.eml', values))).autoReply).toBe('OUT_OF_OFFICE');
    expect((await parse(mailFixture('gmail-reply-interested.eml', values))).autoReply).toBeNull();
  });

  it('refuses bytes that are not a message, and a message over the limit', async () => {
    await expect(parse(mailFixture('malformed-binary.eml', values))).rejects.toBeInstanceOf(MalformedMailError);
    await expect(parse('')).rejects.toBeInstanceOf(MalformedMailError);
    await expect(parse(mailFixture('gmail-reply-interested.eml', values), 500)).rejects.toBeInstanceOf(OversizedMailError);
  });

  it('streams a 30 MB attachment through without keeping it', async () => {
    const boundary = 'b1';
    const head = `From: Dana <dana@lead.example>\r\nTo: sam@sender.example\r\nSubject: Re: deck\r\nMessage-ID: <big@lead.example>\r\nIn-Reply-To: ${values.outboundMessageId}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere is our current process, see attached.\r\n--${boundary}\r\nContent-Type: application/pdf; name="process.pdf"\r\nContent-Disposition: attachment; filename="process.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
    const line = `${Buffer.alloc(57, 7).toString('base64')}\r\n`;
    const lines = Math.ceil((30 * 1024 * 1024) / 57);
    // What stays alive while the message streams: measured after a collection every ~5 MB, so garbage
    // waiting for the collector does not count, only what the parser holds on to.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const live = () => {
      collect();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    const baseline = live();
    let mostAlive = 0;
    async function* chunks() {
      yield Buffer.from(head);
      const block = Buffer.from(line.repeat(1000));
      for (let index = 0; index < lines; index += 1000) {
        if ((index / 1000) % 64 === 0) mostAlive = Math.max(mostAlive, live() - baseline);
        yield block;
      }
      yield Buffer.from(`--${boundary}--\r\n`);
    }
    const mail = await parseInboundMail(Readable.from(chunks()), { maxBytes: 60 * 1024 * 1024 });
    expect(mail.replyText).toBe('Here is our current process, see attached.');
    expect(mail.attachments).toEqual([{ filename: 'process.pdf', contentType: 'application/pdf', size: Math.ceil(lines / 1000) * 1000 * 57 }]);
    expect(mail.size).toBeGreaterThan(40 * 1024 * 1024);
    expect(mostAlive).toBeLessThan(10 * 1024 * 1024);
    // Forty megabytes of parsing and a full collection every few of them: minutes on a loaded machine.
  }, 240_000);
});
